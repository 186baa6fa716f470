import type { LogicalType } from '../../types.js';
import { qualifiedTable, quoteIdentifier } from '../postgres/postgres-dialect.js';
import type { Dialect, TableLayout, WarehouseCapabilities } from '../warehouse.js';
import { REDSHIFT_MAX_VARCHAR_BYTES, redshiftVarcharBytes } from './redshift-csv.js';

/** NUMERIC holds at most 38 digits (https://docs.aws.amazon.com/redshift/latest/dg/r_Numeric_types201.html). */
const maxDecimalPrecision = 38;

/**
 * DDL type of a logical type on Redshift. `text` is `varchar(65535)`: Redshift's TEXT is a
 * VARCHAR(256), too short for what a source TEXT holds.
 */
export const redshiftColumnType = (type: LogicalType): string => {
  switch (type.kind) {
    case 'bigint':
      return 'bigint';
    case 'integer':
      return 'integer';
    case 'double':
      return 'double precision';
    case 'decimal':
      return type.precision > maxDecimalPrecision
        ? `varchar(${REDSHIFT_MAX_VARCHAR_BYTES})`
        : `numeric(${type.precision},${type.scale})`;
    case 'varchar':
      return `varchar(${redshiftVarcharBytes(type.length)})`;
    case 'text':
      return `varchar(${REDSHIFT_MAX_VARCHAR_BYTES})`;
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
  }
};

/**
 * `diststyle … distkey(…) compound sortkey(…)` after the column list
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html).
 */
export const redshiftTableOptions = (layout: TableLayout | undefined): string => {
  if (!layout) return '';
  const parts: string[] = [];
  const style = layout.distStyle ?? (layout.distKey ? 'key' : undefined);
  if (style) parts.push(`diststyle ${style}`);
  if (layout.distKey) parts.push(`distkey(${quoteIdentifier(layout.distKey)})`);
  if (layout.sortKey?.length)
    parts.push(`compound sortkey(${layout.sortKey.map(quoteIdentifier).join(', ')})`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
};

/**
 * Redshift, as engine facts: no RETURNING, DISTINCT ON, ON CONFLICT, sequences or indexes; a
 * DELETE takes no alias and an IN subquery one column; keys are not enforced; VARCHAR counts bytes;
 * a statement is at most 16 MiB (the loader sizes its INSERTs by bytes); TRUNCATE commits (never
 * used inside a run's transactions). Blocks carry zone maps and tables a compound sort key, so rows
 * are written in event-time order and a batch's rows already aged go straight to their hist table
 * (a delete leaves ghost rows until VACUUM DELETE).
 */
export const redshiftCapabilities: WarehouseCapabilities = {
  transactionalDdl: true,
  estimatesCommittedRowsOnly: false,
  rejectsNulInText: true,
  varcharCounts: 'bytes',
  zoneMaps: true,
  stageByLeftJoin: true,
  rowId: null,
  dmlInWith: false,
  distinctOn: false,
  archiveStageFirst: true,
  maxDecimalPrecision,
  rowLocator: null,
  rangeLiterals: true,
  sequences: false,
  deleteAlias: false,
  rowValueIn: false,
  isDistinctFrom: false,
  addColumnIfNotExists: false,
  declaresKeys: false,
};

export const redshiftDialect: Dialect = {
  name: 'redshift',
  capabilities: redshiftCapabilities,
  quote: quoteIdentifier,
  table: qualifiedTable,
  columnType: redshiftColumnType,
  // https://docs.aws.amazon.com/redshift/latest/dg/r_SYSDATE.html (the transaction's start, UTC)
  now: 'sysdate',
  tableOptions: redshiftTableOptions,
  // https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html (IDENTITY(seed, step))
  identityColumn: (type) => `${redshiftColumnType(type)} identity(1, 1)`,
  // https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html
  lockTables: (tables) => (tables.length === 0 ? null : `lock ${tables.join(', ')}`),
  // https://docs.aws.amazon.com/redshift/latest/dg/r_LISTAGG.html
  stringAgg: (expr, separator, orderBy) =>
    `listagg(${expr}, ${separator}) within group (order by ${orderBy})`,
  // No indexes on Redshift: sort keys and zone maps serve the range scans.
  createIndex: () => null,
  // https://docs.aws.amazon.com/redshift/latest/dg/r_ANALYZE.html
  analyze: (table) => `analyze ${table}`,
  // svv_table_info lists only tables holding rows; its estimate leaves out rows deleted but not
  // vacuumed (https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_TABLE_INFO.html).
  rowEstimates: (tables) => ({
    sql: `select "schema" as table_schema, "table" as table_name, estimated_visible_rows as n
  from svv_table_info
 where ${tables.length === 0 ? 'false' : tables.map((_, i) => `("schema" = $${2 * i + 1} and "table" = $${2 * i + 2})`).join(' or ')}`,
    params: tables.flatMap((t) => [t.schema, t.table]),
  }),
};
