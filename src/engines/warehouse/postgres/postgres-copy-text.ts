import type { Column, Row, Value } from '../../types.js';
import type { WarehouseCapabilities } from '../warehouse.js';

/** Characters that need work in COPY text format; NUL is here so one test covers both checks. */
const special = /[\\\t\n\r\0]/;
const escapable = /[\\\t\n\r]/g;
const escapes: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string): string => escapes[c] ?? c;

/** Unicode code points in `s` (what PostgreSQL's `varchar(n)` counts in a UTF-8 database). */
export const codePointLength = (s: string): number => {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
};

/**
 * Turns batches of rows into COPY `text` format (tab-separated, `\N` for NULL, backslash escapes),
 * checking each value against its column first so a value the server would reject fails the load
 * with a message naming the table, column and row rather than a byte offset in the COPY stream.
 *
 * Checks follow the dialect's capabilities: U+0000 when `rejectsNulInText`, and `varchar(n)`
 * lengths in characters or bytes per `varcharCounts`. The length is only measured when the UTF-16
 * length alone cannot prove the value fits, so the common path costs one comparison.
 */
export class CopyTextEncoder {
  private rowNumber = 0;
  private readonly idIndex: number;
  /** Per column: the `varchar(n)` limit, or `Infinity`. */
  private readonly limits: readonly number[];
  /** Per column: the UTF-16 length above which the value must be measured. */
  private readonly thresholds: readonly number[];
  private readonly names: readonly string[];

  constructor(
    private readonly target: string,
    private readonly columns: readonly Column[],
    private readonly capabilities: WarehouseCapabilities,
  ) {
    this.idIndex = columns.findIndex((c) => c.name === 'id');
    this.names = columns.map((c) => c.name);
    this.limits = columns.map((c) =>
      c.type.kind === 'varchar' && capabilities.varcharCounts !== 'none' ? c.type.length : Infinity,
    );
    // A UTF-16 unit is at most one character and at most 3 UTF-8 bytes (a surrogate pair: 4 for 2).
    const perUnit = capabilities.varcharCounts === 'bytes' ? 3 : 1;
    this.thresholds = this.limits.map((limit) => Math.floor(limit / perUnit));
  }

  /** Rows encoded so far. */
  get rows(): number {
    return this.rowNumber;
  }

  /**
   * One batch as COPY text in UTF-8, every row ending in a newline. Throws on the first bad value.
   *
   * Each row is built as a short string and written into one buffer: concatenating the whole batch
   * into a single string (a rope of every field, flattened when sent) kept the garbage collector
   * busy for over half of the load's time.
   */
  encode(batch: readonly Row[]): Buffer {
    const width = this.columns.length;
    let out = Buffer.allocUnsafe(Math.max(4096, batch.length * 256));
    let length = 0;
    for (const row of batch) {
      this.rowNumber++;
      if (row.length !== width)
        throw new Error(
          `cannot load ${this.target}: row ${this.rowRef(row)} has ${row.length} values for ${width} columns`,
        );
      let line = this.field(row[0] ?? null, 0, row);
      for (let i = 1; i < width; i++) line += '\t' + this.field(row[i] ?? null, i, row);
      line += '\n';
      // A UTF-16 unit is at most 3 UTF-8 bytes.
      if (length + line.length * 3 > out.length) {
        const grown = Buffer.allocUnsafe(Math.max(out.length * 2, length + line.length * 3));
        out.copy(grown, 0, 0, length);
        out = grown;
      }
      length += out.write(line, length, 'utf8');
    }
    return out.subarray(0, length);
  }

  private field(value: Value, column: number, row: Row): string {
    switch (typeof value) {
      case 'string':
        return this.text(value, column, row);
      case 'number':
        return String(value);
      case 'bigint':
        return value.toString();
      case 'boolean':
        return value ? 't' : 'f';
      default:
        if (value === null || value === undefined) return '\\N';
        throw new Error(
          `cannot load ${this.target}: column ${this.names[column]} of row ${this.rowRef(row)} holds a ${describe(value)}, not a string, number, bigint, boolean or null`,
        );
    }
  }

  private text(s: string, column: number, row: Row): string {
    if (s.length > (this.thresholds[column] ?? Infinity))
      this.checkLength(s, this.limits[column] ?? Infinity, column, row);
    if (!special.test(s)) return s;
    if (this.capabilities.rejectsNulInText && s.includes('\0'))
      throw new Error(
        `cannot load ${this.target}: column ${this.names[column]} of row ${this.rowRef(row)} holds the character U+0000, which text columns here cannot store; strip it at the source`,
      );
    return s.replace(escapable, escapeChar);
  }

  private checkLength(s: string, limit: number, column: number, row: Row): void {
    const [size, unit] =
      this.capabilities.varcharCounts === 'bytes'
        ? [Buffer.byteLength(s, 'utf8'), 'bytes']
        : [codePointLength(s), 'characters'];
    if (size > limit)
      throw new Error(
        `cannot load ${this.target}: column ${this.names[column]} of row ${this.rowRef(row)} holds ${size} ${unit}, more than varchar(${limit})`,
      );
  }

  /** `id 42` when the row has an `id`, else its 1-based position in this load (`#17`). */
  private rowRef(row: Row): string {
    const id = this.idIndex >= 0 ? row[this.idIndex] : undefined;
    return id === null || id === undefined ? `#${this.rowNumber}` : `id ${String(id).slice(0, 64)}`;
  }
}

const describe = (value: unknown): string =>
  typeof value === 'object' && value !== null ? (value.constructor?.name ?? 'object') : typeof value;
