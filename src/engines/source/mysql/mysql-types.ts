import type { LogicalType } from '../../types.js';

/** One row of `information_schema.columns`, as `describeTable` reads it. */
export interface MysqlColumnInfo {
  /** `DATA_TYPE`, e.g. `int`, `varchar`, `decimal`. */
  readonly dataType: string;
  /** `COLUMN_TYPE`, e.g. `int(10) unsigned`, `tinyint(1)`, `bit(1)`. */
  readonly columnType: string;
  readonly charLength: number | null;
  readonly numericPrecision: number | null;
  readonly numericScale: number | null;
}

const integer: LogicalType = { kind: 'integer' };
const bigint: LogicalType = { kind: 'bigint' };
const text: LogicalType = { kind: 'text' };

/**
 * Maps a MySQL / MariaDB column onto the pipeline's logical types. Unsigned `int` widens to
 * `bigint` (its range passes 2^31), unsigned `bigint` to `decimal(20,0)` (its range passes 2^63; a
 * required integer column narrows back, `narrowRequired`); binary strings, blobs, `time`, spatial and MariaDB's `uuid` /
 * `inet6` become `text` (the source hands binary values over as hex).
 */
export const mysqlLogicalType = (info: MysqlColumnInfo): LogicalType => {
  const dataType = info.dataType.toLowerCase();
  const unsigned = /\bunsigned\b/i.test(info.columnType);
  switch (dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'year':
      return integer;
    case 'int':
    case 'integer':
      return unsigned ? bigint : integer;
    case 'bigint':
      // Up to 18446744073709551615: past a signed bigint, so the digits are kept exact.
      return unsigned ? { kind: 'decimal', precision: 20, scale: 0 } : bigint;
    case 'bit':
      // bit(n) arrives as an unsigned number of n bits.
      return (info.numericPrecision ?? 64) <= 31 ? integer : bigint;
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed':
      return { kind: 'decimal', precision: info.numericPrecision ?? 10, scale: info.numericScale ?? 0 };
    case 'float':
    case 'double':
    case 'real':
    case 'double precision':
      return { kind: 'double' };
    case 'char':
    case 'varchar':
      return info.charLength === null ? text : { kind: 'varchar', length: info.charLength };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
    case 'timestamp':
      return { kind: 'timestamp' };
    default:
      // tinytext … longtext, json (longtext on MariaDB), enum, set, time, binary, blobs, spatial.
      return text;
  }
};
