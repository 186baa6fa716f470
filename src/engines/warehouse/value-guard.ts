import type { Column, LogicalType, QuarantinedValue, Row, Value } from '../types.js';
import { Quarantine } from './quarantine.js';
import { valueCheck, type ValueCheck } from './value-checks.js';
import type { WarehouseCapabilities } from './warehouse.js';

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
 * The checks every row loader makes before it writes a value (SPEC §5), shared so that COPY text,
 * Redshift's CSV and its INSERT literals quarantine exactly the same values: a value the column
 * cannot hold is reported as BAD_VALUE (the loader writes NULL in its place, so the rest of the row
 * lands), and a string holding U+FFFD (bytes the source could not decode as UTF-8) is reported as
 * INVALID_UTF8 once per row and written as it is.
 *
 * Checks follow the column's type (`valueCheck`) and the dialect's capabilities: U+0000 when
 * `rejectsNulInText`, and `varchar(n)` lengths in characters or bytes per `varcharCounts`. A length
 * is only measured when the UTF-16 length alone cannot prove the value fits, so the common path
 * costs one comparison. The loader calls `startRow` per row, `accepts` per non-null value, and for
 * a string `fits`, then `clean` only when its own scan for special characters (which must include
 * U+0000 and U+FFFD) found one: one regular expression per string covers every check.
 */
export class ValueGuard {
  private rowNumber = 0;
  private readonly idIndex: number;
  /** Per column: the length limit (characters or bytes per `varcharCounts`), or `Infinity`. */
  private readonly limits: readonly number[];
  /** Per column: the UTF-16 length above which the value must be measured. */
  private readonly thresholds: readonly number[];
  private readonly names: readonly string[];
  private readonly checks: readonly (ValueCheck | null)[];
  /** Per column: the last value that passed its check (the load columns repeat one value per load). */
  private readonly passed: Value[];
  private readonly quarantine: Quarantine;
  /** The row whose U+FFFD is reported already: one INVALID_UTF8 per row. */
  private replacedRow = 0;
  private readonly width: number;

  /**
   * `limit` gives a column's length limit where the dialect declares one other than the logical
   * type's (Redshift: `varchar(n)` as up to 4n bytes, `text` as `varchar(65535)`); by default a
   * `varchar(n)` holds n (characters or bytes), any other type has no limit, and none is checked
   * when `varcharCounts` is `'none'`.
   */
  constructor(
    readonly target: string,
    columns: readonly Column[],
    private readonly capabilities: WarehouseCapabilities,
    limit: (type: LogicalType) => number = (type) => (type.kind === 'varchar' ? type.length : Infinity),
  ) {
    this.width = columns.length;
    this.idIndex = columns.findIndex((c) => c.name === 'id');
    this.names = columns.map((c) => c.name);
    this.limits = columns.map((c) => (capabilities.varcharCounts !== 'none' ? limit(c.type) : Infinity));
    // A UTF-16 unit is at most one character and at most 3 UTF-8 bytes (a surrogate pair: 4 for 2).
    const perUnit = capabilities.varcharCounts === 'bytes' ? 3 : 1;
    this.thresholds = this.limits.map((l) => Math.floor(l / perUnit));
    this.checks = columns.map((c) => valueCheck(c.type));
    this.passed = columns.map(() => null);
    this.quarantine = new Quarantine(target);
  }

  /** Rows started so far. */
  get rows(): number {
    return this.rowNumber;
  }

  /** The values written as NULL or reported so far (fails the load past `QUARANTINE_LIMIT`). */
  get quarantined(): readonly QuarantinedValue[] {
    return this.quarantine.values;
  }

  /** Counts the next row, and fails the load when its width is not the columns'. */
  startRow(row: Row): void {
    this.rowNumber++;
    if (row.length !== this.width)
      throw new Error(
        `cannot load ${this.target}: row ${this.rowRef(row)} has ${row.length} values for ${this.width} columns`,
      );
  }

  /** Whether the column's type holds `value` (not null); when not, it is reported and must be written as NULL. */
  accepts(value: Exclude<Value, null>, column: number, row: Row): boolean {
    const check = this.checks[column];
    if (check && value !== this.passed[column]) {
      const reason = check(value);
      if (reason !== null) return this.bad(column, row, reason);
      this.passed[column] = value;
    }
    return true;
  }

  /** Whether the string is within the column's length limit; when not, it is reported (write NULL). */
  fits(s: string, column: number, row: Row): boolean {
    if (s.length <= (this.thresholds[column] ?? Infinity)) return true;
    const limit = this.limits[column] ?? Infinity;
    const [size, unit] =
      this.capabilities.varcharCounts === 'bytes'
        ? [Buffer.byteLength(s, 'utf8'), 'bytes']
        : [codePointLength(s), 'characters'];
    return size > limit ? this.bad(column, row, `${size} ${unit}, more than varchar(${limit})`) : true;
  }

  /**
   * For a string the loader's scan found a special character in: `false` (reported, write NULL)
   * when it holds U+0000 the warehouse cannot store; reports U+FFFD once per row.
   */
  clean(s: string, column: number, row: Row): boolean {
    if (this.capabilities.rejectsNulInText && s.includes('\0'))
      return this.bad(column, row, 'holds the character U+0000, which text here cannot store');
    if (s.includes('\uFFFD') && this.replacedRow !== this.rowNumber) {
      this.replacedRow = this.rowNumber;
      this.quarantine.add({
        type: 'INVALID_UTF8',
        column: this.names[column] ?? '',
        id: this.idOf(row),
        reason: 'bytes that are not UTF-8, replaced with U+FFFD',
      });
    }
    return true;
  }

  /** The error for a value that is not a string, number, bigint, boolean or null. */
  notAValue(value: unknown, column: number, row: Row): Error {
    return new Error(
      `cannot load ${this.target}: column ${this.names[column]} of row ${this.rowRef(row)} holds a ${describe(value)}, not a string, number, bigint, boolean or null`,
    );
  }

  /** `id 42` when the row has an `id`, else its 1-based position in this load (`#17`). */
  rowRef(row: Row): string {
    const id = this.idOf(row);
    return id === null ? `#${this.rowNumber}` : `id ${id.slice(0, 64)}`;
  }

  /** Records a value the column cannot hold; the loader writes NULL in its place. */
  private bad(column: number, row: Row, reason: string): false {
    this.quarantine.add({ type: 'BAD_VALUE', column: this.names[column] ?? '', id: this.idOf(row), reason });
    return false;
  }

  private idOf(row: Row): string | null {
    const id = this.idIndex >= 0 ? row[this.idIndex] : undefined;
    return id === null || id === undefined ? null : String(id);
  }
}

/**
 * Rows `start` to `end` (exclusive) of `batch` as lines in one UTF-8 buffer, `line` building each
 * once `guard` has started its row. Each row is built as a short string and written into one
 * buffer: concatenating the whole batch into a single string (a rope of every field, flattened
 * when sent) kept the garbage collector busy for over half of the load's time.
 */
export const encodeLines = (
  guard: ValueGuard,
  batch: readonly Row[],
  start: number,
  end: number,
  line: (row: Row) => string,
): Buffer => {
  let out = Buffer.allocUnsafe(Math.max(4096, (end - start) * 256));
  let length = 0;
  for (let r = start; r < end; r++) {
    const row = batch[r] as Row;
    guard.startRow(row);
    const text = line(row);
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    if (length + text.length * 3 > out.length) {
      const grown = Buffer.allocUnsafe(Math.max(out.length * 2, length + text.length * 3));
      out.copy(grown, 0, 0, length);
      out = grown;
    }
    length += out.write(text, length, 'utf8');
  }
  return out.subarray(0, length);
};

const describe = (value: unknown): string =>
  typeof value === 'object' && value !== null ? (value.constructor?.name ?? 'object') : typeof value;
