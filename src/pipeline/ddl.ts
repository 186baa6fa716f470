import type { Column } from '../engines/types.js';
import type { Dialect, TableLayout } from '../engines/warehouse/warehouse.js';

/** A table the pipeline owns, as data: DDL is generated from it per dialect. */
export interface TableSpec {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly Column[];
  readonly primaryKey?: readonly string[];
  /**
   * An id column numbered by the warehouse: from the sequence `schema.sequence` where the engine has
   * sequences, else an IDENTITY column (Redshift).
   */
  readonly identity?: { readonly column: string; readonly schema: string; readonly sequence: string };
  /** Distribution and sort order on Redshift (`Dialect.tableOptions`); ignored elsewhere. */
  readonly layout?: TableLayout;
  /**
   * Columns added after the table's first release: `init` adds them to a table created before
   * (`addColumnIfMissing`), and a run refuses a warehouse that lacks them (`run init to upgrade`).
   */
  readonly added?: readonly string[];
}

export const createSchema = (d: Dialect, schema: string): string =>
  `create schema if not exists ${d.quote(schema)}`;

export const createTable = (d: Dialect, t: TableSpec): string => {
  const lines = t.columns.map((c) => {
    if (t.identity?.column !== c.name) return `  ${d.quote(c.name)} ${d.columnType(c.type)}`;
    const { schema, sequence } = t.identity;
    return d.capabilities.sequences
      ? `  ${d.quote(c.name)} ${d.columnType(c.type)} default nextval('${schema}.${sequence}')`
      : `  ${d.quote(c.name)} ${d.identityColumn(c.type)}`;
  });
  if (t.primaryKey?.length && d.capabilities.declaresKeys)
    lines.push(`  primary key (${t.primaryKey.map(d.quote).join(', ')})`);
  return `create table if not exists ${d.table(t.schema, t.name)} (\n${lines.join(',\n')}\n)${d.tableOptions(t.layout)}`;
};

export const addColumn = (d: Dialect, schema: string, table: string, column: Column): string =>
  `alter table ${d.table(schema, table)} add column ${d.quote(column.name)} ${d.columnType(column.type)}`;

/** Adds a column an older release did not create; a no-op when it exists (SPEC §8: init is idempotent). */
export const addColumnIfMissing = (d: Dialect, t: TableSpec, name: string): string => {
  const column = t.columns.find((c) => c.name === name);
  if (!column) throw new Error(`${t.schema}.${t.name} has no column ${name} to add`);
  return `alter table ${d.table(t.schema, t.name)} add column if not exists ${d.quote(column.name)} ${d.columnType(column.type)}`;
};

export const alterColumnType = (d: Dialect, schema: string, table: string, column: Column): string =>
  `alter table ${d.table(schema, table)} alter column ${d.quote(column.name)} type ${d.columnType(column.type)}`;

/** Shorthand for table specs written as data: `col('run_id', 'bigint')`. */
export const col = (name: string, kind: 'bigint' | 'integer' | 'text' | 'timestamp' | 'double'): Column => ({
  name,
  sourceName: name,
  type: { kind },
});

export const varchar = (name: string, length: number): Column => ({
  name,
  sourceName: name,
  type: { kind: 'varchar', length },
});

export const createSequence = (d: Dialect, schema: string, name: string): string =>
  `create sequence if not exists ${d.table(schema, name)}`;
