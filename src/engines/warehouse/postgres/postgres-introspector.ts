import type pg from 'pg';
import type { Column, LogicalType } from '../../types.js';

/** One row of `information_schema.columns`, the fields the mapping needs. */
export interface ColumnInfo {
  readonly column_name: string;
  readonly data_type: string;
  readonly character_maximum_length: number | null;
  readonly numeric_precision: number | null;
  readonly numeric_scale: number | null;
}

/**
 * Maps a PostgreSQL column type back to the logical type `postgresColumnType` would have created
 * it from. Types the pipeline never creates map to the nearest logical type that holds their values
 * (`smallint` → integer, `real` → double, `character(n)` → varchar(n)), and anything else (json,
 * uuid, unconstrained `numeric`, …) to text, so drift checks report them instead of failing.
 */
export const postgresLogicalType = (info: ColumnInfo): LogicalType => {
  switch (info.data_type) {
    case 'bigint':
      return { kind: 'bigint' };
    case 'integer':
    case 'smallint':
      return { kind: 'integer' };
    case 'double precision':
    case 'real':
      return { kind: 'double' };
    case 'numeric':
      return info.numeric_precision === null
        ? { kind: 'text' }
        : { kind: 'decimal', precision: info.numeric_precision, scale: info.numeric_scale ?? 0 };
    case 'character varying':
    case 'character':
      return info.character_maximum_length === null
        ? { kind: 'text' }
        : { kind: 'varchar', length: info.character_maximum_length };
    case 'boolean':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return { kind: 'timestamp' };
    default:
      return { kind: 'text' };
  }
};

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * The table's columns in ordinal order, or `null` when it does not exist (or is not visible).
 * `logicalType` reads a column's type back (Redshift's VARCHAR counts bytes, so it has its own).
 */
export const describeTable = async (
  db: Queryable,
  schema: string,
  table: string,
  logicalType: (info: ColumnInfo) => LogicalType = postgresLogicalType,
): Promise<Column[] | null> => {
  const { rows } = await db.query<ColumnInfo>(
    `select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
       from information_schema.columns
      where table_schema = $1 and table_name = $2
      order by ordinal_position`,
    [schema, table],
  );
  if (rows.length === 0) {
    // A table can exist with no columns at all (`create table t ()`).
    const exists = await db.query(
      `select 1 from information_schema.tables where table_schema = $1 and table_name = $2`,
      [schema, table],
    );
    return exists.rows.length === 0 ? null : [];
  }
  return rows.map((info) => ({
    name: info.column_name,
    sourceName: info.column_name,
    type: logicalType(info),
  }));
};

/**
 * A unique, valid, non-partial index whose key columns are exactly `columns` (in any order; INCLUDE
 * columns aside) exists on the table: no two rows can share that key.
 */
export const enforcesUnique = async (
  db: Queryable,
  schema: string,
  table: string,
  columns: readonly string[],
): Promise<boolean> => {
  const { rows } = await db.query(
    `select 1 from pg_index i
       join pg_class t on t.oid = i.indrelid
       join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = $1 and t.relname = $2
        and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
        and (select string_agg(a.attname, ',' order by a.attname) from pg_attribute a
              where a.attrelid = t.oid and a.attnum = any((i.indkey::int2[])[0:i.indnkeyatts - 1])) = $3
        and i.indnkeyatts = $4`,
    [schema, table, [...columns].sort().join(','), columns.length],
  );
  return rows.length > 0;
};

/** The schemas among `names` that exist, in the order asked. */
export const existingSchemas = async (db: Queryable, names: readonly string[]): Promise<string[]> => {
  if (names.length === 0) return [];
  // pg_namespace, not information_schema.schemata: the latter hides schemas this role does not own.
  // One placeholder per name rather than an array: Redshift takes no array parameters.
  const { rows } = await db.query<{ nspname: string }>(
    `select nspname from pg_catalog.pg_namespace where nspname in (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...names],
  );
  const present = new Set(rows.map((r) => r.nspname));
  return names.filter((name) => present.has(name));
};
