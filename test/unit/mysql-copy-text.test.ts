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

  it('sends bytes that are not UTF-8 as mysql2 decodes them, U+FFFD for each bad sequence', () => {
    const parser = new CopyTextRowParser(fields.slice(0, 4), columns.slice(0, 4), []);
    const row = parser.next(packet(['1', '0', '2024-01-02', Buffer.from([0xff, 0x41, 0x09])]));
    // Bytes compared: decoding the result would turn a stray 0xff into U+FFFD by itself.
    expect(row).toEqual(Buffer.from('1\t0\t2024-01-02\t\uFFFDA\\t\n', 'utf8'));
  });

  it('returns a U+0000 as an error naming the column and row, and carries on with the next row', () => {
    const parser = new CopyTextRowParser(fields.slice(0, 4), columns.slice(0, 4), [3]);
    const bad = parser.next(packet(['42', '1', '2024-01-02', 'a\u0000b']));
    expect(bad).toBeInstanceOf(UnloadableValue);
    expect((bad as Error).message).toBe(
      'column note of row id 42 holds the character U+0000, which text columns here cannot store; strip it at the source',
    );
    expect(text(parser.next(packet(['43', '1', '2024-01-02', 'fine'])))).toBe('43\t1\t2024-01-02\tfine\t3\n');
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
