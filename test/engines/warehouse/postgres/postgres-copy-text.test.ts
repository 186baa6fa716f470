import { describe, expect, it } from 'vitest';
import type { Column, LogicalType } from '../../../../src/engines/types.js';
import { postgresCapabilities } from '../../../../src/engines/warehouse/postgres/postgres-dialect.js';
import { CopyTextEncoder } from '../../../../src/engines/warehouse/postgres/postgres-copy-text.js';
import { codePointLength } from '../../../../src/engines/warehouse/value-guard.js';

const column = (name: string, type: LogicalType): Column => ({ name, sourceName: name, type });

describe('CopyTextEncoder', () => {
  const columns = [
    column('id', { kind: 'bigint' }),
    column('location', { kind: 'varchar', length: 4 }),
    column('note', { kind: 'text' }),
    column('flag', { kind: 'boolean' }),
  ];

  it('writes tab-separated lines with \\N for NULL and escapes the specials', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    const text = encoder.encode([
      [1, 'ab', 'tab\there', true],
      [2n ** 62n, null, 'line\nbreak\r\nback\\slash', false],
      ['9007199254740993', '\\N', '\\.', null],
      [4, '', '😀 漢字 e\u0301', null],
    ]);
    expect(text.toString('utf8')).toBe(
      [
        '1\tab\ttab\\there\tt',
        '4611686018427387904\t\\N\tline\\nbreak\\r\\nback\\\\slash\tf',
        '9007199254740993\t\\\\N\t\\\\.\t\\N',
        '4\t\t😀 漢字 e\u0301\t\\N',
        '',
      ].join('\n'),
    );
    expect(encoder.rows).toBe(4);
  });

  it('counts varchar(n) in characters: four emoji fit varchar(4), five are written as NULL and named', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    expect(encoder.encode([[7, '😀😀😀😀', null, null]]).toString('utf8')).toBe('7\t😀😀😀😀\t\\N\t\\N\n');
    expect(encoder.encode([[8, '😀😀😀😀😀', 'kept', null]]).toString('utf8')).toBe('8\t\\N\tkept\t\\N\n');
    expect(encoder.quarantined).toEqual([
      { type: 'BAD_VALUE', column: 'location', id: '8', reason: '5 characters, more than varchar(4)' },
    ]);
  });

  it('writes U+0000 as NULL and names table, column and id', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    expect(encoder.encode([[42, 'a', 'x\0y', null]]).toString('utf8')).toBe('42\ta\t\\N\t\\N\n');
    expect(encoder.quarantined).toEqual([
      {
        type: 'BAD_VALUE',
        column: 'note',
        id: '42',
        reason: 'holds the character U+0000, which text here cannot store',
      },
    ]);
  });

  it('writes values the column type cannot hold as NULL: out of range, not a number, not a date', () => {
    const typed = [
      column('id', { kind: 'bigint' }),
      column('n', { kind: 'integer' }),
      column('amount', { kind: 'decimal', precision: 10, scale: 2 }),
      column('at', { kind: 'timestamp' }),
    ];
    const encoder = new CopyTextEncoder('s.t', typed, postgresCapabilities);
    const text = encoder.encode([
      [1, 3_000_000_000, '123456789012.345', '0000-00-00 00:00:00'],
      [2, 7, 'abc', '2024-02-30 10:00:00'],
      ['18446744073709551615', -2_147_483_648, '12345678.99', '2024-02-29 10:00:00'],
    ]);
    expect(text.toString('utf8')).toBe(
      '1\t\\N\t\\N\t\\N\n2\t7\t\\N\t\\N\n\\N\t-2147483648\t12345678.99\t2024-02-29 10:00:00\n',
    );
    expect(encoder.quarantined.map((q) => `${q.column} ${q.id}: ${q.reason}`)).toEqual([
      'n 1: 3000000000 is out of range for integer',
      'amount 1: "123456789012.345" does not fit decimal(10,2) (8 digits before the point)',
      'at 1: "0000-00-00 00:00:00" is a zero date',
      'amount 2: "abc" is not a decimal(10,2)',
      'at 2: "2024-02-30 10:00:00" is not a valid date',
      'id 18446744073709551615: "18446744073709551615" is out of range for bigint',
    ]);
  });

  it('reports a string holding U+FFFD once per row, and writes it as it is', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    const text = encoder.encode([[5, 'K\uFFFDln', 'caf\uFFFD\t', null]]);
    expect(text.toString('utf8')).toBe('5\tK\uFFFDln\tcaf\uFFFD\\t\t\\N\n');
    expect(encoder.quarantined).toEqual([
      {
        type: 'INVALID_UTF8',
        column: 'location',
        id: '5',
        reason: 'bytes that are not UTF-8, replaced with U+FFFD',
      },
    ]);
  });

  it('names no id when the rows have none', () => {
    const encoder = new CopyTextEncoder(
      's.t',
      [column('code', { kind: 'varchar', length: 2 })],
      postgresCapabilities,
    );
    encoder.encode([['ok'], ['long']]);
    expect(encoder.quarantined).toEqual([
      { type: 'BAD_VALUE', column: 'code', id: null, reason: '4 characters, more than varchar(2)' },
    ]);
  });

  it('counts bytes when the dialect does (Redshift), and skips checks it does not need', () => {
    const bytes = new CopyTextEncoder(
      's.t',
      [column('id', { kind: 'integer' }), column('v', { kind: 'varchar', length: 6 })],
      {
        ...postgresCapabilities,
        rejectsNulInText: false,
        varcharCounts: 'bytes',
      },
    );
    bytes.encode([
      [1, 'ab'],
      [2, '漢字'],
      [3, '漢字a'],
    ]);
    expect(bytes.quarantined).toEqual([
      { type: 'BAD_VALUE', column: 'v', id: '3', reason: '7 bytes, more than varchar(6)' },
    ]);
    const none = new CopyTextEncoder('s.t', [column('v', { kind: 'varchar', length: 1 })], {
      ...postgresCapabilities,
      varcharCounts: 'none',
    });
    expect(none.encode([['longer']]).toString('utf8')).toBe('longer\n');
    expect(none.quarantined).toEqual([]);
  });

  it('rejects rows of the wrong width and values that are not Values', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    expect(() => encoder.encode([[1, 'a']])).toThrow('cannot load s.t: row id 1 has 2 values for 4 columns');
    const bad = [5, new Date(0), null, null] as unknown as (string | null)[];
    expect(() => encoder.encode([bad])).toThrow('column location of row id 5 holds a Date');
  });
});

describe('codePointLength', () => {
  it('counts surrogate pairs once and everything else per unit', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀😀')).toBe(2);
    expect(codePointLength('e\u0301')).toBe(2);
    expect(codePointLength('\ud800x')).toBe(2);
    expect(codePointLength('x\ud800')).toBe(2);
  });
});
