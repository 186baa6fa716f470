import { describe, expect, it } from 'vitest';
import type { Column, LogicalType } from '../../../../src/engines/types.js';
import { postgresCapabilities } from '../../../../src/engines/warehouse/postgres/postgres-dialect.js';
import {
  codePointLength,
  CopyTextEncoder,
} from '../../../../src/engines/warehouse/postgres/postgres-copy-text.js';

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

  it('counts varchar(n) in characters: four emoji fit varchar(4), five do not', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    expect(() => encoder.encode([[7, '😀😀😀😀', null, null]])).not.toThrow();
    expect(() => encoder.encode([[8, '😀😀😀😀😀', null, null]])).toThrow(
      'cannot load s.t: column location of row id 8 holds 5 characters, more than varchar(4)',
    );
  });

  it('names U+0000 by table, column and id', () => {
    const encoder = new CopyTextEncoder('s.t', columns, postgresCapabilities);
    expect(() => encoder.encode([[42, 'a', 'x\0y', null]])).toThrow(
      'cannot load s.t: column note of row id 42 holds the character U+0000, which text columns here cannot store; strip it at the source',
    );
  });

  it('falls back to the row position when there is no id', () => {
    const encoder = new CopyTextEncoder(
      's.t',
      [column('code', { kind: 'varchar', length: 2 })],
      postgresCapabilities,
    );
    encoder.encode([['ok']]);
    expect(() => encoder.encode([['ok'], ['long']])).toThrow(
      'cannot load s.t: column code of row #3 holds 4 characters, more than varchar(2)',
    );
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
    expect(() => bytes.encode([[1, 'ab']])).not.toThrow();
    expect(() => bytes.encode([[2, '漢字']])).not.toThrow();
    expect(() => bytes.encode([[3, '漢字a']])).toThrow(
      'column v of row id 3 holds 7 bytes, more than varchar(6)',
    );
    const none = new CopyTextEncoder('s.t', [column('v', { kind: 'varchar', length: 1 })], {
      ...postgresCapabilities,
      varcharCounts: 'none',
    });
    expect(none.encode([['longer']]).toString('utf8')).toBe('longer\n');
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
