import { isUtf8 } from 'node:buffer';
import mysql from 'mysql2';
import type { Column, QuarantinedValue, Value } from '../../types.js';
import { invalidDate } from '../../warehouse/value-checks.js';
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
  /** Column flags (`UNSIGNED` is 32). */
  readonly flags?: number;
}

/**
 * How one field's wire bytes become COPY text. The text protocol already sends every value as
 * text: numbers, decimals, dates and times in the very form PostgreSQL reads (what mysql2 would
 * parse and the row path print back), UTF-8 strings needing only COPY's escapes. Two plain kinds
 * are checked on the way (SPEC §5): `date`, which MySQL may hold as a zero or invalid date that
 * PostgreSQL refuses, and `int64`, an unsigned or decimal value landing in a bigint column.
 */
type Kind = 'plain' | 'date' | 'int64' | 'escaped' | 'bytes' | 'value';

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
  Types.TIME,
]);

const dateTypes = new Set<number>([Types.DATE, Types.NEWDATE, Types.DATETIME, Types.TIMESTAMP]);

const UNSIGNED_FLAG = 32;

/** Mirrors mysql2's text parser (`readCodeFor`, with this source's pool options). */
const kindOf = (field: FieldInfo, column: Column | undefined): Kind => {
  if (dateTypes.has(field.columnType)) return 'date';
  if (
    column?.type.kind === 'bigint' &&
    ((field.columnType === Types.LONGLONG && ((field.flags ?? 0) & UNSIGNED_FLAG) !== 0) ||
      field.columnType === Types.DECIMAL ||
      field.columnType === Types.NEWDECIMAL)
  )
    return 'int64';
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

/** A row that cannot be written as COPY text (a packet that fails to read); the snapshot fails the read with it. */
export class UnloadableValue extends Error {}

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '9223372036854775808';

/** Why a bigint column cannot hold the integer text `bytes[from, to)`, or `null` when it can. */
const int64Overflow = (bytes: Buffer, from: number, to: number): string | null => {
  let at = from;
  const negative = bytes[at] === 0x2d;
  if (negative) at++;
  while (at < to - 1 && bytes[at] === 0x30) at++; // ZEROFILL's leading zeros
  const digits = to - at;
  if (digits < 19) return null;
  const text = bytes.toString('latin1', at, to);
  if (digits === 19 && text <= (negative ? INT64_MIN : INT64_MAX)) return null;
  return `${JSON.stringify(bytes.toString('latin1', from, to))} is out of range for bigint`;
};

/** Why `bytes[from, to)`, a MySQL date or datetime, is no date PostgreSQL stores, or `null`. */
const dateProblem = (bytes: Buffer, from: number, to: number): string | null => {
  const digits = (at: number, n: number): number => {
    let v = 0;
    for (let k = at; k < at + n; k++) v = v * 10 + (bytes[k]! - 0x30);
    return v;
  };
  if (to - from < 10) return null;
  return invalidDate(
    digits(from, 4),
    digits(from + 5, 2),
    digits(from + 8, 2),
    JSON.stringify(bytes.toString('latin1', from, to)),
  );
};

/** A value of the row being parsed that is written as NULL (BAD_VALUE) or was replaced (INVALID_UTF8). */
type Pending = Omit<QuarantinedValue, 'id'>;

/**
 * A mysql2 row parser (what the driver calls `_rowParser`) that writes each row of a result
 * straight from the packet into PostgreSQL COPY text, with `append` (the load columns) after the
 * source's values, and returns the row's bytes. No JS value is made for a number, date or UTF-8
 * string: decoding them to strings and encoding them back took most of the extract's time.
 *
 * Rows are written one after another into an arena and returned as views of it; a new arena is
 * started when one fills, so a view stays valid until its batch is sent. A value PostgreSQL would
 * reject (U+0000 in text, a zero or invalid date, an integer past a bigint) is written as NULL and
 * kept, with bytes that are not UTF-8 (replaced as mysql2 would), for `takeQuarantined` (SPEC §5).
 * A failure to read the packet is returned as an `UnloadableValue` naming the row, which the
 * consumer throws: thrown inside the driver it would end the command mid-result.
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
  /** The current row's bad or replaced values; `replaced` once it has its INVALID_UTF8. */
  private pending: Pending[] = [];
  private replaced = false;
  private quarantined: QuarantinedValue[] = [];

  constructor(
    private readonly fields: readonly FieldInfo[],
    private readonly columns: readonly Column[],
    append: readonly Value[],
    private readonly arenaBytes = 1 << 18,
  ) {
    this.kinds = fields.map((f, i) => kindOf(f, columns[i]));
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
    if (this.pending.length > 0) this.pending = [];
    this.replaced = false;
    try {
      for (let i = 0; i < this.kinds.length; i++) {
        if (i > 0) this.byte(TAB);
        this.field(packet, i);
      }
    } catch (error) {
      this.pos = this.rowStart;
      const reason = error instanceof Error ? error.message : String(error);
      return new UnloadableValue(`row ${this.rowRef()} cannot be read as text: ${reason}`, { cause: error });
    }
    this.copy(this.suffix, 0, this.suffix.length);
    if (this.pending.length > 0) {
      const id = this.idText();
      for (const value of this.pending) this.quarantined.push({ ...value, id });
    }
    return this.arena.subarray(this.rowStart, this.pos);
  }

  /** The values written as NULL or replaced since the last call, each naming its row's id. */
  takeQuarantined(): QuarantinedValue[] {
    const taken = this.quarantined;
    if (taken.length > 0) this.quarantined = [];
    return taken;
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
    if (kind === 'escaped') {
      if (!this.escaped(packet.buffer, at, at + length, i)) this.nul(i);
      return;
    }
    if (kind === 'date' || kind === 'int64') {
      const problem =
        kind === 'date'
          ? dateProblem(packet.buffer, at, at + length)
          : int64Overflow(packet.buffer, at, at + length);
      if (problem === null) return this.copy(packet.buffer, at, at + length);
      this.pending.push({ type: 'BAD_VALUE', column: this.nameOf(i), reason: problem });
      return this.copy(nullText, 0, nullText.length);
    }
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
    if (!this.escaped(bytes, 0, bytes.length, field)) this.nul(field);
  }

  /** A text value holding U+0000, which PostgreSQL's text cannot store: NULL in its place. */
  private nul(field: number): void {
    this.pending.push({
      type: 'BAD_VALUE',
      column: this.nameOf(field),
      reason: 'holds the character U+0000, which text here cannot store',
    });
    this.copy(nullText, 0, nullText.length);
  }

  private nameOf(field: number): string {
    return this.columns[field]?.name ?? this.fields[field]?.name ?? '(a load column)';
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

  /** Writes `source[from, to)` escaped; `false`, writing nothing, when it holds U+0000. */
  private escaped(source: Buffer, from: number, to: number, field: number): boolean {
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
      } else if (b === 0) return false;
      else out[pos++] = b;
    }
    // Bytes that are not UTF-8 (a legacy import can leave them): PostgreSQL would reject the
    // whole COPY. Send what mysql2 would have decoded, U+FFFD for each bad sequence, and report the row.
    if (high >= 0x80 && !isUtf8(source.subarray(from, to))) {
      if (!this.replaced && field >= 0) {
        this.replaced = true;
        this.pending.push({
          type: 'INVALID_UTF8',
          column: this.nameOf(field),
          reason: 'bytes that are not UTF-8, replaced with U+FFFD',
        });
      }
      const decoded = Buffer.from(source.toString('utf8', from, to), 'utf8');
      return this.escaped(decoded, 0, decoded.length, field);
    }
    this.pos = pos;
    return true;
  }

  /** The row's id as the wire sent it, once read, else `null`. */
  private idText(): string | null {
    return this.idAt >= 0 && this.packet
      ? this.packet.buffer.toString('utf8', this.idAt, this.idEnd).replace(/\s+/g, ' ')
      : null;
  }

  /** `id 42` when the row's id came before the failure, else its position in this read (`#17`). */
  private rowRef(): string {
    const id = this.idText();
    return id === null ? `#${this.rows}` : `id ${id}`;
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
