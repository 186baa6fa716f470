import type { LogicalType } from '../../types.js';
import type { Dialect } from '../warehouse.js';

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

/** DuckDB's DECIMAL holds at most 38 digits. */
const maxDecimalPrecision = 38;

/**
 * DuckDB: `varchar(n)` is accepted but not enforced, so strings are never truncated (SPEC §5);
 * decimals hold at most 38 digits, so a wider one is stored as text (`storedType`).
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  capabilities: {
    transactionalDdl: true,
    estimatesCommittedRowsOnly: true,
    rejectsNulInText: false,
    varcharCounts: 'none',
    zoneMaps: true,
    stageByLeftJoin: false,
    rowId: 'rowid',
    dmlInWith: false,
    distinctOn: false,
    archiveStageFirst: true,
    maxDecimalPrecision,
    rowLocator: null,
    rangeLiterals: false,
    sequences: true,
    deleteAlias: true,
    rowValueIn: true,
    isDistinctFrom: true,
    addColumnIfNotExists: true,
    declaresKeys: true,
  },
  now: 'current_timestamp',
  tableOptions: () => '',
  identityColumn: () => {
    throw new Error('DuckDB ids come from sequences');
  },
  lockTables: () => null,
  stringAgg: (expr, separator, orderBy) => `string_agg(${expr}, ${separator} order by ${orderBy})`,
  quote,
  table: (schema, table) => `${quote(schema)}.${quote(table)}`,
  createIndex: () => null,
  // DuckDB keeps a table's statistics (row count, min/max, distinct estimates) current as rows arrive.
  analyze: () => null,
  rowEstimates: () => null,
  columnType: (type: LogicalType): string => {
    switch (type.kind) {
      case 'bigint':
        return 'bigint';
      case 'integer':
        return 'integer';
      case 'double':
        return 'double';
      case 'decimal':
        return type.precision > maxDecimalPrecision ? 'varchar' : `decimal(${type.precision},${type.scale})`;
      case 'varchar':
      case 'text':
        return 'varchar';
      case 'boolean':
        return 'boolean';
      case 'date':
        return 'date';
      case 'timestamp':
        return 'timestamp';
    }
  },
};

/** Maps `information_schema.columns.data_type` back to a logical type. */
export const duckdbLogicalType = (dataType: string): LogicalType => {
  const t = dataType.toUpperCase();
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  if (t === 'BIGINT' || t === 'HUGEINT' || t === 'UBIGINT' || t === 'UINTEGER') return { kind: 'bigint' };
  if (t === 'INTEGER' || t === 'SMALLINT' || t === 'TINYINT' || t === 'USMALLINT' || t === 'UTINYINT')
    return { kind: 'integer' };
  if (t === 'DOUBLE' || t === 'FLOAT' || t === 'REAL') return { kind: 'double' };
  if (t === 'BOOLEAN') return { kind: 'boolean' };
  if (t === 'DATE') return { kind: 'date' };
  if (t.startsWith('TIMESTAMP')) return { kind: 'timestamp' };
  return { kind: 'text' };
};
