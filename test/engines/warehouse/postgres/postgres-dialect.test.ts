import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { LogicalType } from '../../../../src/engines/types.js';
import { postgresDialect } from '../../../../src/engines/warehouse/postgres/postgres-dialect.js';
import {
  createTypeParsers,
  parseInt8,
  parseNumeric,
  parseTimestamp,
  parseTimestamptz,
} from '../../../../src/engines/warehouse/postgres/postgres-type-parsers.js';

describe('postgresDialect', () => {
  it('quotes every identifier, doubling embedded quotes', () => {
    expect(postgresDialect.quote('order_id')).toBe('"order_id"');
    expect(postgresDialect.quote('we"ird')).toBe('"we""ird"');
    expect(postgresDialect.table('settlement_ods', 'mart "x"')).toBe('"settlement_ods"."mart ""x"""');
    expect(() => postgresDialect.quote('a\0b')).toThrow(/U\+0000/);
  });

  it('maps logical types to PostgreSQL DDL', () => {
    const cases: [LogicalType, string][] = [
      [{ kind: 'bigint' }, 'bigint'],
      [{ kind: 'integer' }, 'integer'],
      [{ kind: 'double' }, 'double precision'],
      [{ kind: 'decimal', precision: 18, scale: 4 }, 'numeric(18,4)'],
      [{ kind: 'varchar', length: 255 }, 'varchar(255)'],
      [{ kind: 'text' }, 'text'],
      [{ kind: 'boolean' }, 'boolean'],
      [{ kind: 'date' }, 'date'],
      [{ kind: 'timestamp' }, 'timestamp'],
    ];
    for (const [type, ddl] of cases) expect(postgresDialect.columnType(type)).toBe(ddl);
  });

  it('declares its capabilities', () => {
    expect(postgresDialect.name).toBe('postgres');
    expect(postgresDialect.capabilities).toEqual({
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
      maxDecimalPrecision: 1000,
      rowLocator: 'ctid',
      rangeLiterals: false,
      sequences: true,
      deleteAlias: true,
      rowValueIn: true,
      isDistinctFrom: true,
      addColumnIfNotExists: true,
      declaresKeys: true,
    });
  });
});

describe('result type parsers', () => {
  it('keeps int8 a number while exact, else the string', () => {
    expect(parseInt8('42')).toBe(42);
    expect(parseInt8('-9007199254740991')).toBe(-9007199254740991);
    expect(parseInt8('9007199254740992')).toBe('9007199254740992');
    expect(parseInt8('9007199254740993')).toBe('9007199254740993');
    expect(parseInt8('-9223372036854775808')).toBe('-9223372036854775808');
  });

  it('turns integral numerics into numbers and keeps fractions exact', () => {
    expect(parseNumeric('123')).toBe(123);
    expect(parseNumeric('123456789012345678901234567890')).toBe('123456789012345678901234567890');
    expect(parseNumeric('12.50')).toBe('12.50');
    expect(parseNumeric('NaN')).toBe('NaN');
  });

  it('prints timestamps as ISO-8601 UTC with milliseconds', () => {
    expect(parseTimestamp('2024-01-02 03:04:05')).toBe('2024-01-02T03:04:05.000Z');
    expect(parseTimestamp('2024-01-02 03:04:05.1')).toBe('2024-01-02T03:04:05.100Z');
    expect(parseTimestamp('2024-01-02 03:04:05.123456')).toBe('2024-01-02T03:04:05.123Z');
    expect(parseTimestamp('infinity')).toBe('infinity');
    expect(parseTimestamptz('2024-01-02 03:04:05.5+02')).toBe('2024-01-02T01:04:05.500Z');
    expect(parseTimestamptz('2024-01-02 03:04:05+05:30')).toBe('2024-01-01T21:34:05.000Z');
  });

  it('installs them per pool, leaving the global pg parsers alone', () => {
    const parsers = createTypeParsers();
    expect(parsers.getTypeParser(20, 'text')('42')).toBe(42);
    expect(pg.types.getTypeParser(20, 'text')('42')).toBe('42');
    expect(pg.types.getTypeParser(1114, 'text')('2024-01-02 03:04:05')).toBeInstanceOf(Date);
  });
});
