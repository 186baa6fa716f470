import { describe, expect, it } from 'vitest';
import { quoteMysql, mysqlRangePredicate } from '../../../src/engines/source/mysql/mysql-sql.js';
import { mysqlLogicalType, type MysqlColumnInfo } from '../../../src/engines/source/mysql/mysql-types.js';
import { unsignedBytesToValue } from '../../../src/engines/source/mysql/mysql-values.js';
import { quoteSqlite, sqliteRangePredicate } from '../../../src/engines/source/sqlite/sqlite-sql.js';
import { sqliteLogicalType } from '../../../src/engines/source/sqlite/sqlite-types.js';

const my = (dataType: string, columnType: string, extra: Partial<MysqlColumnInfo> = {}): MysqlColumnInfo => ({
  dataType,
  columnType,
  charLength: null,
  numericPrecision: null,
  numericScale: null,
  ...extra,
});

describe('mysqlLogicalType', () => {
  it.each([
    [my('tinyint', 'tinyint(1)'), { kind: 'integer' }],
    [my('smallint', 'smallint(6) unsigned'), { kind: 'integer' }],
    [my('mediumint', 'mediumint(9)'), { kind: 'integer' }],
    [my('int', 'int(11)'), { kind: 'integer' }],
    [my('int', 'int(10) unsigned'), { kind: 'bigint' }],
    [my('bigint', 'bigint(20)'), { kind: 'bigint' }],
    [my('bigint', 'bigint(20) unsigned'), { kind: 'decimal', precision: 20, scale: 0 }],
    [my('bit', 'bit(1)', { numericPrecision: 1 }), { kind: 'integer' }],
    [my('bit', 'bit(64)', { numericPrecision: 64 }), { kind: 'bigint' }],
    [
      my('decimal', 'decimal(12,2)', { numericPrecision: 12, numericScale: 2 }),
      { kind: 'decimal', precision: 12, scale: 2 },
    ],
    [my('float', 'float'), { kind: 'double' }],
    [my('double', 'double'), { kind: 'double' }],
    [my('varchar', 'varchar(64)', { charLength: 64 }), { kind: 'varchar', length: 64 }],
    [my('char', 'char(2)', { charLength: 2 }), { kind: 'varchar', length: 2 }],
    [my('longtext', 'longtext'), { kind: 'text' }],
    [my('json', 'json'), { kind: 'text' }],
    [my('enum', "enum('a','b')"), { kind: 'text' }],
    [my('set', "set('a','b')"), { kind: 'text' }],
    [my('date', 'date'), { kind: 'date' }],
    [my('datetime', 'datetime(6)'), { kind: 'timestamp' }],
    [my('timestamp', 'timestamp'), { kind: 'timestamp' }],
    [my('varbinary', 'varbinary(16)', { charLength: 16 }), { kind: 'text' }],
    [my('time', 'time'), { kind: 'text' }],
    [my('uuid', 'uuid'), { kind: 'text' }],
  ])('%o → %o', (info, expected) => {
    expect(mysqlLogicalType(info)).toEqual(expected);
  });
});

describe('sqliteLogicalType', () => {
  it.each([
    ['BIGINT', 0, { kind: 'bigint' }],
    ['bigint unsigned', 0, { kind: 'bigint' }],
    ['INTEGER', 1, { kind: 'bigint' }],
    // INTEGER affinity: 64 bits, whatever the declared width.
    ['INTEGER', 0, { kind: 'bigint' }],
    ['INT', 0, { kind: 'bigint' }],
    ['INT UNSIGNED', 0, { kind: 'bigint' }],
    ['TINYINT(1)', 0, { kind: 'bigint' }],
    ['VARCHAR(64)', 0, { kind: 'varchar', length: 64 }],
    ['NVARCHAR( 10 )', 0, { kind: 'varchar', length: 10 }],
    ['CHARACTER', 0, { kind: 'text' }],
    ['TEXT', 0, { kind: 'text' }],
    ['CLOB', 0, { kind: 'text' }],
    ['REAL', 0, { kind: 'double' }],
    ['DOUBLE PRECISION', 0, { kind: 'double' }],
    ['FLOAT', 0, { kind: 'double' }],
    ['DECIMAL(12,2)', 0, { kind: 'decimal', precision: 12, scale: 2 }],
    ['NUMERIC(10)', 0, { kind: 'decimal', precision: 10, scale: 0 }],
    ['NUMERIC', 0, { kind: 'double' }],
    ['DATETIME', 0, { kind: 'timestamp' }],
    ['TIMESTAMP', 0, { kind: 'timestamp' }],
    ['DATE', 0, { kind: 'date' }],
    ['BOOLEAN', 0, { kind: 'integer' }],
    ['BLOB', 0, { kind: 'text' }],
    ['', 0, { kind: 'text' }],
  ] as const)('%s (pk %i) → %o', (declaredType, pk, expected) => {
    expect(sqliteLogicalType({ declaredType, pk })).toEqual(expected);
  });
});

describe('identifier quoting and ranges', () => {
  it('doubles the quote character of each engine', () => {
    expect(quoteMysql('tra`ce"Seq')).toBe('`tra``ce"Seq`');
    expect(quoteSqlite('tra`ce"Seq')).toBe('"tra`ce""Seq"');
  });

  it('binds the range bounds, with no lower bound when `from` is null', () => {
    expect(mysqlRangePredicate({ column: 'id', from: 10n, to: 20n })).toEqual({
      sql: '`id` > ? and `id` <= ?',
      values: [10n, 20n],
    });
    expect(mysqlRangePredicate({ column: 'id', from: null, to: 20n })).toEqual({
      sql: '`id` <= ?',
      values: [20n],
    });
    expect(sqliteRangePredicate({ column: 'pathTime', from: 5n, to: 6n })).toEqual({
      sql: '"pathTime" > ? and "pathTime" <= ?',
      values: [5n, 6n],
    });
  });

  it('adds the rows the cursor cannot place, by id: NULL, or below a time floor', () => {
    expect(
      sqliteRangePredicate({
        column: 'update_time',
        from: 100n,
        to: 200n,
        strays: { floor: 946_684_800n, idAbove: 9_007_199_254_740_993n },
      }),
    ).toEqual({
      sql: '("update_time" > ? and "update_time" <= ?) or (("update_time" is null and +"id" > ?) or ("update_time" < ? and +"id" > ?))',
      values: [100n, 200n, 9_007_199_254_740_993n, 946_684_800n, 9_007_199_254_740_993n],
    });
    // SQLite: a NOT NULL column's strays are below the floor only; with no floor it has none.
    const range = { column: 'update_time', from: 100n, to: 200n } as const;
    expect(sqliteRangePredicate({ ...range, strays: { floor: 946_684_800n, idAbove: null } }, false)).toEqual(
      {
        sql: '("update_time" > ? and "update_time" <= ?) or (("update_time" < ?))',
        values: [100n, 200n, 946_684_800n],
      },
    );
    expect(sqliteRangePredicate({ ...range, strays: { floor: null, idAbove: 5n } }, false)).toEqual({
      sql: '"update_time" > ? and "update_time" <= ?',
      values: [100n, 200n],
    });
    expect(
      mysqlRangePredicate({ column: 'traceSeq', from: null, to: 7n, strays: { floor: null, idAbove: null } }),
    ).toEqual({ sql: '(`traceSeq` <= ?) or ((`traceSeq` is null))', values: [7n] });
    expect(mysqlRangePredicate({ column: 'pathTime', from: 5n, to: null })).toEqual({
      sql: '`pathTime` > ?',
      values: [5n],
    });
  });
});

describe('unsignedBytesToValue', () => {
  it('reads bit(n) values big-endian, as strings past 2^53', () => {
    expect(unsignedBytesToValue(Uint8Array.of(1))).toBe(1);
    expect(unsignedBytesToValue(Uint8Array.of(1, 0))).toBe(256);
    expect(unsignedBytesToValue(Uint8Array.of(255, 255, 255, 255, 255, 255, 255, 255))).toBe(
      '18446744073709551615',
    );
  });
});
