/**
 * The three source tables as data (SPEC §2), and their DDL for MySQL/MariaDB and SQLite.
 *
 * Column names keep the source's spelling (`traceSeq`, `pathTime`); the warehouse lower-cases them.
 */

export type SourceTableName = 'uni_tracking_info' | 'ecs_order_info' | 'uni_tracking_spath';

/** The tables in the order they are created and written. */
export const SOURCE_TABLE_NAMES: readonly SourceTableName[] = [
  'ecs_order_info',
  'uni_tracking_info',
  'uni_tracking_spath',
];

export interface SourceColumn {
  readonly name: string;
  /** Declared type, identical in both dialects so type introspection sees the same thing. */
  readonly type: 'BIGINT' | 'INT' | `VARCHAR(${number})`;
  readonly nullable: boolean;
}

export interface SourceTable {
  readonly name: SourceTableName;
  readonly columns: readonly SourceColumn[];
  /** Secondary indexes, each a list of column names. */
  readonly indexes: readonly (readonly string[])[];
}

const col = (name: string, type: SourceColumn['type'], nullable = true): SourceColumn => ({
  name,
  type,
  nullable,
});

export const SOURCE_TABLES: { readonly [T in SourceTableName]: SourceTable } = {
  uni_tracking_info: {
    name: 'uni_tracking_info',
    columns: [
      col('id', 'BIGINT', false),
      col('order_id', 'VARCHAR(64)'),
      col('tracking_no', 'VARCHAR(64)'),
      col('status', 'VARCHAR(32)'),
      col('carrier', 'VARCHAR(64)'),
      col('location', 'VARCHAR(255)'),
      col('update_time', 'INT', false),
    ],
    // The pipeline extracts this table by `update_time` (SPEC §3).
    indexes: [['update_time']],
  },
  ecs_order_info: {
    name: 'ecs_order_info',
    columns: [
      col('id', 'BIGINT', false),
      col('order_id', 'VARCHAR(64)'),
      col('partner_id', 'INT'),
      col('customer_name', 'VARCHAR(128)'),
      col('destination', 'VARCHAR(255)'),
      col('weight_grams', 'INT'),
      col('add_time', 'INT', false),
    ],
    indexes: [],
  },
  uni_tracking_spath: {
    name: 'uni_tracking_spath',
    columns: [
      col('id', 'BIGINT', false),
      col('order_id', 'VARCHAR(64)'),
      col('traceSeq', 'INT', false),
      col('pathTime', 'INT', false),
      col('scan_site', 'VARCHAR(128)'),
      col('scan_type', 'VARCHAR(32)'),
      col('remark', 'VARCHAR(255)'),
    ],
    indexes: [],
  },
};

export type SourceDialect = 'mysql' | 'sqlite';

/** Quotes an identifier, doubling the quote character. */
export function quoteIdentifier(dialect: SourceDialect, name: string): string {
  const q = dialect === 'mysql' ? '`' : '"';
  return q + name.split(q).join(q + q) + q;
}

function columnDdl(dialect: SourceDialect, column: SourceColumn): string {
  const name = quoteIdentifier(dialect, column.name);
  if (column.name === 'id') {
    // SQLite: only the exact spelling `INTEGER PRIMARY KEY` makes the column the rowid, which keeps
    // inserts as fast as MySQL's clustered auto-increment key.
    return dialect === 'mysql'
      ? `${name} BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY`
      : `${name} INTEGER PRIMARY KEY`;
  }
  return `${name} ${column.type} ${column.nullable ? 'NULL' : 'NOT NULL'}`;
}

function indexName(table: SourceTable, columns: readonly string[]): string {
  return `idx_${table.name}_${columns.join('_')}`;
}

/** `CREATE TABLE IF NOT EXISTS` (and index) statements for one table. */
export function tableDdl(dialect: SourceDialect, table: SourceTable): readonly string[] {
  const q = (name: string): string => quoteIdentifier(dialect, name);
  const columns = table.columns.map((c) => `  ${columnDdl(dialect, c)}`);
  if (dialect === 'mysql') {
    const keys = table.indexes.map(
      (cols) => `  KEY ${q(indexName(table, cols))} (${cols.map(q).join(', ')})`,
    );
    return [
      `CREATE TABLE IF NOT EXISTS ${q(table.name)} (\n${[...columns, ...keys].join(',\n')}\n)` +
        ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    ];
  }
  return [
    `CREATE TABLE IF NOT EXISTS ${q(table.name)} (\n${columns.join(',\n')}\n)`,
    ...table.indexes.map(
      (cols) =>
        `CREATE INDEX IF NOT EXISTS ${q(indexName(table, cols))} ON ${q(table.name)} (${cols.map(q).join(', ')})`,
    ),
  ];
}

/** Every statement that creates the three source tables in the given dialect. */
export function sourceDdl(dialect: SourceDialect): readonly string[] {
  return SOURCE_TABLE_NAMES.flatMap((name) => tableDdl(dialect, SOURCE_TABLES[name]));
}

/** MySQL/MariaDB DDL of the source tables (InnoDB, utf8mb4). */
export const MYSQL_SOURCE_DDL: readonly string[] = sourceDdl('mysql');

/** SQLite DDL of the source tables (declared types kept for introspection). */
export const SQLITE_SOURCE_DDL: readonly string[] = sourceDdl('sqlite');
