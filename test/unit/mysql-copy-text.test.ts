import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import mysql from 'mysql2';
import { describe, expect, it } from 'vitest';
import {
  CopyTextRowParser,
  UnloadableValue,
  type FieldInfo,
  type RowPacket,
} from '../../src/engines/source/mysql/mysql-copy-text.js';
import type { Column, LogicalType } from '../../src/engines/types.js';

// mysql2's own packet class (not among its exports), fed bytes as the server sends a text row.
const require = createRequire(import.meta.url);
const Packet = require(join(dirname(require.resolve('mysql2')), 'lib/packets/packet.js')) as new (
  id: number,
  buffer: Buffer,
  start: number,
  end: number,
) => RowPacket;
const { Types, Charsets } = mysql;

/** A row packet: each value length-coded, NULL as 0xfb. */
const packet = (values: readonly (string | Buffer | null)[]): RowPacket => {
  const parts = values.map((v) => {
    if (v === null) return Buffer.from([0xfb]);
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    const head =
      bytes.length < 251
        ? Buffer.from([bytes.length])
        : Buffer.from([0xfc, bytes.length & 0xff, bytes.length >> 8]);
    return Buffer.concat([head, bytes]);
  });
  // The 4-byte header (length, sequence number) the packet's reads start after.
  const body = Buffer.concat([Buffer.alloc(4), ...parts]);
  return new Packet(0, body, 0, body.length);
};

const field = (name: string, columnType: number, text = false): FieldInfo => ({
  name,
  columnType,
  characterSet: text ? 224 : Charsets.BINARY,
  encoding: text ? 'utf8' : 'binary',
});
const column = (name: string, type: LogicalType): Column => ({ name, sourceName: name, type });

const fields = [
  field('id', Types.LONGLONG),
  field('amount', Types.NEWDECIMAL),
  field('at', Types.DATETIME),
  field('note', Types.VAR_STRING, true),
  field('bytes', Types.BLOB),
  field('flag', Types.BIT),
];
const columns = [
  column('id', { kind: 'bigint' }),
  column('amount', { kind: 'decimal', precision: 12, scale: 2 }),
  column('at', { kind: 'timestamp' }),
  column('note', { kind: 'text' }),
  column('bytes', { kind: 'text' }),
  column('flag', { kind: 'integer' }),
];

const text = (row: Buffer | UnloadableValue): string => {
  if (!Buffer.isBuffer(row)) throw row;
  return row.toString('utf8');
};

describe('CopyTextRowParser', () => {
  it('writes values as sent, escapes text, hexes bytes, appends the load columns, across tiny arenas', () => {
    const parser = new CopyTextRowParser(fields, columns, [7, '2026-11-28 12:00:00'], 16);
    const rows = Array.from({ length: 40 }, (_, i) =>
      parser.next(
        packet([
          String(i),
          '-12.50',
          '2024-01-02 03:04:05',
          i % 2 ? `tab\tnew\nline\r\\ 😀 ${'x'.repeat(i)}` : null,
          Buffer.from([0, 9, 0x5c, i]),
          Buffer.from([i % 2]),
        ]),
      ),
    );
    // Read after every row is parsed: a new arena must leave earlier rows' bytes alone.
    expect(rows.map(text)).toEqual(
      Array.from(
        { length: 40 },
        (_, i) =>
          `${i}\t-12.50\t2024-01-02 03:04:05\t${i % 2 ? `tab\\tnew\\nline\\r\\\\ 😀 ${'x'.repeat(i)}` : '\\N'}` +
          `\t00095c${i.toString(16).padStart(2, '0')}\t${i % 2}\t7\t2026-11-28 12:00:00\n`,
      ),
    );
  });

  it('sends bytes that are not UTF-8 as mysql2 decodes them, U+FFFD for each bad sequence, reported once per row', () => {
    const parser = new CopyTextRowParser(fields.slice(0, 4), columns.slice(0, 4), []);
    const row = parser.next(packet(['1', '0', '2024-01-02', Buffer.from([0xff, 0x41, 0x09])]));
    // Bytes compared: decoding the result would turn a stray 0xff into U+FFFD by itself.
    expect(row).toEqual(Buffer.from('1\t0\t2024-01-02\t\uFFFDA\\t\n', 'utf8'));
    expect(parser.takeQuarantined()).toEqual([
      {
        type: 'INVALID_UTF8',
        column: 'note',
        id: '1',
        reason: 'bytes that are not UTF-8, replaced with U+FFFD',
      },
    ]);
    expect(parser.takeQuarantined()).toEqual([]);
  });

  it('writes a U+0000 in text as NULL, names the column and row, and carries on with the next row', () => {
    const parser = new CopyTextRowParser(fields.slice(0, 4), columns.slice(0, 4), [3]);
    expect(text(parser.next(packet(['42', '1', '2024-01-02', 'a\u0000b'])))).toBe(
      '42\t1\t2024-01-02\t\\N\t3\n',
    );
    expect(text(parser.next(packet(['43', '1', '2024-01-02', 'fine'])))).toBe('43\t1\t2024-01-02\tfine\t3\n');
    expect(parser.takeQuarantined()).toEqual([
      {
        type: 'BAD_VALUE',
        column: 'note',
        id: '42',
        reason: 'holds the character U+0000, which text here cannot store',
      },
    ]);
  });

  it('writes zero and invalid dates, and integers past a bigint, as NULL, naming the row whatever the column order', () => {
    const dated = [field('at', Types.DATETIME), field('day', Types.DATE), field('id', Types.LONGLONG)];
    const unsigned = { ...dated[2]!, flags: 32 };
    const parser = new CopyTextRowParser(
      [dated[0]!, dated[1]!, unsigned],
      [
        column('at', { kind: 'timestamp' }),
        column('day', { kind: 'date' }),
        column('id', { kind: 'bigint' }),
      ],
      [],
    );
    const rows = [
      ['0000-00-00 00:00:00', '2024-02-29', '1'],
      ['2024-01-02 03:04:05', '2023-02-29', '9223372036854775807'],
      ['2024-00-10 00:00:00', '0000-00-00', '18446744073709551615'],
    ].map((r) => text(parser.next(packet(r))));
    expect(rows).toEqual([
      '\\N\t2024-02-29\t1\n',
      '2024-01-02 03:04:05\t\\N\t9223372036854775807\n',
      '\\N\t\\N\t\\N\n',
    ]);
    expect(parser.takeQuarantined().map((q) => `${q.column} ${q.id}: ${q.reason}`)).toEqual([
      'at 1: "0000-00-00 00:00:00" is a zero date',
      'day 9223372036854775807: "2023-02-29" is not a valid date',
      'at 18446744073709551615: "2024-00-10 00:00:00" is not a valid date',
      'day 18446744073709551615: "0000-00-00" is a zero date',
      'id 18446744073709551615: "18446744073709551615" is out of range for bigint',
    ]);
  });

  it('returns, never throws, a failure reading the packet, naming the row', () => {
    const parser = new CopyTextRowParser(fields.slice(0, 2), columns.slice(0, 2), []);
    const broken = packet(['5', '1']);
    let calls = 0;
    const read = broken.readLengthCodedNumber.bind(broken);
    broken.readLengthCodedNumber = () => {
      if (++calls === 2) throw new RangeError('malformed length');
      return read();
    };
    const row = parser.next(broken);
    expect(row).toBeInstanceOf(UnloadableValue);
    expect((row as Error).message).toBe('row id 5 cannot be read as text: malformed length');
  });

  it('escapes the appended values as COPY text', () => {
    const parser = new CopyTextRowParser(fields.slice(0, 1), columns.slice(0, 1), ['a\tb\\c', null]);
    expect(text(parser.next(packet(['1'])))).toBe('1\ta\\tb\\\\c\t\\N\n');
  });
});
