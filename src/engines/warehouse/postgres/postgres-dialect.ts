import type { LogicalType } from '../../types.js';
import type { Dialect, WarehouseCapabilities } from '../warehouse.js';

/**
 * Quotes one identifier the PostgreSQL way (also Redshift's): wraps it in `"` and doubles embedded
 * `"`. A name holding U+0000 cannot exist on the server, so it is refused here rather than there.
 */
export const quoteIdentifier = (identifier: string): string => {
  if (identifier.includes('\0')) throw new Error(`identifier ${JSON.stringify(identifier)} contains U+0000`);
  return `"${identifier.replaceAll('"', '""')}"`;
};

/** `"schema"."table"`. */
export const qualifiedTable = (schema: string, table: string): string =>
  `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;

/** PostgreSQL's `numeric(p,s)` takes a precision of at most 1000. */
const maxDecimalPrecision = 1000;

/** DDL type of a logical type on PostgreSQL. */
export const postgresColumnType = (type: LogicalType): string => {
  switch (type.kind) {
    case 'bigint':
      return 'bigint';
    case 'integer':
      return 'integer';
    case 'double':
      return 'double precision';
    case 'decimal':
      return type.precision > maxDecimalPrecision ? 'text' : `numeric(${type.precision},${type.scale})`;
    case 'varchar':
      return `varchar(${type.length})`;
    case 'text':
      return 'text';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
  }
};

/**
 * PostgreSQL: DDL is transactional, text cannot hold U+0000, `varchar(n)` counts characters, and
 * look-ups go through b-tree indexes (heap order does not matter to them).
 */
export const postgresCapabilities: WarehouseCapabilities = {
  transactionalDdl: true,
  estimatesCommittedRowsOnly: false,
  rejectsNulInText: true,
  varcharCounts: 'chars',
  zoneMaps: false,
  stageByLeftJoin: false,
  rowId: 'ctid',
  dmlInWith: true,
  distinctOn: true,
  archiveStageFirst: false,
  maxDecimalPrecision,
  rowLocator: 'ctid',
  rangeLiterals: false,
  sequences: true,
  deleteAlias: true,
  rowValueIn: true,
  isDistinctFrom: true,
  addColumnIfNotExists: true,
  declaresKeys: true,
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  capabilities: postgresCapabilities,
  createIndex: (schema, table, columns, options = {}) =>
    `create ${options.unique ? 'unique ' : ''}index if not exists ${quoteIdentifier(`${table}_${columns.join('_')}_idx`.slice(0, 63))} on ${qualifiedTable(schema, table)}${options.kind === 'range' ? ' using brin' : ''} (${columns.map(quoteIdentifier).join(', ')})`,
  analyze: (table) => `analyze ${table}`,
  // The statistics system's live-row count: inserts and deletes move it as they commit, ANALYZE
  // and VACUUM (autovacuum's too) reset it to what they measured. pg_class.reltuples would stay
  // where the last ANALYZE left it while the archive empties a table. 0 after a statistics reset
  // or a crash, when status counts instead.
  rowEstimates: (tables) => ({
    sql: `select n.nspname as table_schema, c.relname as table_name, pg_stat_get_live_tuples(c.oid) as n
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'r' and (n.nspname, c.relname) in (${tables.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')})`,
    params: tables.flatMap((t) => [t.schema, t.table]),
  }),
  quote: quoteIdentifier,
  table: qualifiedTable,
  columnType: postgresColumnType,
  now: 'current_timestamp',
  tableOptions: () => '',
  identityColumn: () => {
    throw new Error('PostgreSQL ids come from sequences');
  },
  lockTables: () => null,
  stringAgg: (expr, separator, orderBy) => `string_agg(${expr}, ${separator} order by ${orderBy})`,
};
