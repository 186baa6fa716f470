import { isUtf8 } from 'node:buffer';
import mysql from 'mysql2';
import type { Column, Value } from '../../types.js';
import { normalizeMysqlValue, unsignedBytesToValue } from './mysql-values.js';

// Getters on the CommonJS module: ESM cannot import them by name.
const { Charsets, Types } = mysql;

/** The parts of mysql2's text-protocol packet and column definition this module reads. */
export interface RowPacket {
  buffer: Buffer;
  offset: number;
  readLengthCodedNumber(): number | null;
  readLengthCodedBuffer(): Buffer | null;
  readLengthCodedString(encoding: string): string | null;
  parseGeometryValue(): unknown;
  parseVector(): unknown;
}

export interface FieldInfo {
  readonly name: string;
  readonly columnType: number;
  readonly characterSet: number;
  readonly encoding: string;
  readonly extendedFormat?: string;
}

/**
 * How one field's wire bytes become COPY text. The text protocol already sends every value as
 * text: numbers, decimals, dates and times in the very form PostgreSQL reads (what mysql2 would
 * parse and the row path print back), UTF-8 strings needing only COPY's escapes.
 */
type Kind = 'plain' | 'escaped' | 'bytes' | 'value';

const plainTypes = new Set<number>([
  Types.TINY,
  Types.SHORT,
  Types.LONG,
  Types.INT24,
  Types.YEAR,
  Types.LONGLONG,
  Types.FLOAT,
  Types.DOUBLE,
  Types.DECIMAL,
  Types.NEWDECIMAL,
  Types.DATE,
  Types.DATETIME,
  Types.TIMESTAMP,
  Types.TIME,
]);

/** Mirrors mysql2's text parser (`readCodeFor`, with this source's pool options). */
const kindOf = (field: FieldInfo): Kind => {
  if (plainTypes.has(field.columnType)) return 'plain';
  if (field.columnType === Types.JSON || field.extendedFormat === 'json') return 'escaped';
  if (
    field.columnType === Types.GEOMETRY ||
    field.columnType === Types.VECTOR ||
    field.columnType === Types.NULL
  )
    return 'value';
  if (field.characterSet === Charsets.BINARY) return 'bytes';
  return field.encoding === 'utf8' ? 'escaped' : 'value';
};

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
/** COPY text's escape letter for each byte that needs one (`\t`, `\n`, `\r`, `\\`). */
const escapeLetter = new Uint8Array(256);
escapeLetter[0x09] = 0x74;
escapeLetter[0x0a] = 0x6e;
escapeLetter[0x0d] = 0x72;
escapeLetter[0x5c] = 0x5c;

/** A row that cannot be written as COPY text (a U+0000 in text, a packet that fails to read); the snapshot fails the read with it. */
export class UnloadableValue extends Error {}

/**
 * A mysql2 row parser (what the driver calls `_rowParser`) that writes each row of a result
 * straight from the packet into PostgreSQL COPY text, with `append` (the load columns) after the
 * source's values, and returns the row's bytes. No JS value is made for a number, date or UTF-8
 * string: decoding them to strings and encoding them back took most of the extract's time.
 *
 * Rows are written one after another into an arena and returned as views of it; a new arena is
 * started when one fills, so a view stays valid until its batch is sent. A value holding U+0000
 * (which PostgreSQL's text columns reject), or any failure to read the packet, is returned as an
 * `UnloadableValue` naming the row, which the consumer throws: thrown inside the driver it would
 * end the command mid-result.
 */
export class CopyTextRowParser {
  private readonly kinds: readonly Kind[];
  private readonly suffix: Buffer;
  private readonly idField: number;
  private arena: Buffer;
  private pos = 0;
  /** Where the row being written starts in `arena` (0 once a new arena took it along). */
  private rowStart = 0;
  /** Where the row's `id` lies in the packet (its bytes as the wire sent them), for an error naming the row. */
  private idAt = -1;
  private idEnd = -1;
  private packet: RowPacket | undefined;
  /** Rows parsed so far, the current one included. */
  private rows = 0;

  constructor(
    private readonly fields: readonly FieldInfo[],
    private readonly columns: readonly Column[],
    append: readonly Value[],
    private readonly arenaBytes = 1 << 18,
  ) {
    this.kinds = fields.map(kindOf);
    this.idField = columns.findIndex((c) => c.name === 'id');
    this.arena = Buffer.allocUnsafe(arenaBytes);
    // The load columns, written once as any value is, then copied after every row.
    for (const value of append) {
      this.byte(TAB);
      this.value(value, -1);
    }
    this.byte(NEWLINE);
    this.suffix = Buffer.from(this.arena.subarray(0, this.pos));
    this.pos = 0;
  }

  next(packet: RowPacket): Buffer | UnloadableValue {
    this.rowStart = this.pos;
    this.idAt = -1;
    this.rows++;
    this.packet = packet;
    try {
      for (let i = 0; i < this.kinds.length; i++) {
        if (i > 0) this.byte(TAB);
        this.field(packet, i);
      }
    } catch (error) {
      this.pos = this.rowStart;
      if (error instanceof UnloadableValue) return error;
      const reason = error instanceof Error ? error.message : String(error);
      return new UnloadableValue(`row ${this.rowRef()} cannot be read as text: ${reason}`, { cause: error });
    }
    this.copy(this.suffix, 0, this.suffix.length);
    return this.arena.subarray(this.rowStart, this.pos);
  }

  private field(packet: RowPacket, i: number): void {
    const kind = this.kinds[i];
    if (kind === 'value') {
      const field = this.fields[i]!;
      const raw =
        field.columnType === Types.GEOMETRY
          ? packet.parseGeometryValue()
          : field.columnType === Types.VECTOR
            ? packet.parseVector()
            : field.columnType === Types.NULL
              ? packet.readLengthCodedNumber()
              : packet.readLengthCodedString(field.encoding);
      return this.value(normalizeMysqlValue(raw, this.columns[i]!), i);
    }
    const length = packet.readLengthCodedNumber();
    if (length === null) return this.copy(nullText, 0, nullText.length);
    const at = packet.offset;
    packet.offset += length;
    if (i === this.idField) [this.idAt, this.idEnd] = [at, at + Math.min(length, 64)];
    if (kind === 'plain') return this.copy(packet.buffer, at, at + length);
    if (kind === 'escaped') return this.escaped(packet.buffer, at, at + length, i);
    const bytes = packet.buffer.subarray(at, at + length);
    const type = this.columns[i]!.type.kind;
    // As the row path: bit(n) into an integer column is a number, other bytes are hex.
    const text =
      type === 'integer' || type === 'bigint' ? String(unsignedBytesToValue(bytes)) : bytes.toString('hex');
    this.reserve(text.length);
    this.pos += this.arena.write(text, this.pos, 'latin1');
  }

  /** A JS value as COPY text: `\N` for NULL, `t`/`f` for booleans, else its text, escaped. */
  private value(value: Value, field: number): void {
    if (value === null) return this.copy(nullText, 0, nullText.length);
    const bytes = Buffer.from(typeof value === 'boolean' ? (value ? 't' : 'f') : String(value), 'utf8');
    this.escaped(bytes, 0, bytes.length, field);
  }

  private byte(b: number): void {
    this.reserve(1);
    this.arena[this.pos++] = b;
  }

  private copy(source: Buffer, from: number, to: number): void {
    this.reserve(to - from);
    // Most values are a few bytes: a loop beats Buffer#copy's native call for them.
    if (to - from > 64) {
      this.pos += source.copy(this.arena, this.pos, from, to);
      return;
    }
    const out = this.arena;
    let pos = this.pos;
    for (let k = from; k < to; k++) out[pos++] = source[k]!;
    this.pos = pos;
  }

  private escaped(source: Buffer, from: number, to: number, field: number): void {
    this.reserve(2 * (to - from));
    const out = this.arena;
    let pos = this.pos;
    let high = 0;
    for (let k = from; k < to; k++) {
      const b = source[k]!;
      high |= b;
      const letter = escapeLetter[b]!;
      if (letter !== 0) {
        out[pos++] = BACKSLASH;
        out[pos++] = letter;
      } else if (b === 0) {
        throw new UnloadableValue(
          `column ${this.columns[field]?.name ?? this.fields[field]?.name ?? '(a load column)'} of row ${this.rowRef()} holds the character U+0000, which text columns here cannot store; strip it at the source`,
        );
      } else out[pos++] = b;
    }
    // Bytes that are not UTF-8 (a legacy import can leave them): PostgreSQL would reject the
    // whole COPY. Send what mysql2 would have decoded, U+FFFD for each bad sequence.
    if (high >= 0x80 && !isUtf8(source.subarray(from, to))) {
      const decoded = Buffer.from(source.toString('utf8', from, to), 'utf8');
      return this.escaped(decoded, 0, decoded.length, field);
    }
    this.pos = pos;
  }

  /** `id 42` when the row's id came before the bad value, else its position in this read (`#17`). */
  private rowRef(): string {
    return this.idAt >= 0 && this.packet
      ? `id ${this.packet.buffer.toString('utf8', this.idAt, this.idEnd).replace(/\s+/g, ' ')}`
      : `#${this.rows}`;
  }

  /** Room for `n` more bytes; a new arena takes the row written so far along. */
  private reserve(n: number): void {
    if (this.pos + n <= this.arena.length) return;
    const partial = this.pos - this.rowStart;
    const next = Buffer.allocUnsafe(Math.max(this.arenaBytes, 2 * (partial + n)));
    this.arena.copy(next, 0, this.rowStart, this.pos);
    this.arena = next;
    this.rowStart = 0;
    this.pos = partial;
  }
}

const nullText = Buffer.from('\\N', 'latin1');
