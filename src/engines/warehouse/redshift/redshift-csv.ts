import type { Column, LogicalType, QuarantinedValue, Row, Value } from '../../types.js';
import { encodeLines, ValueGuard } from '../value-guard.js';
import type { WarehouseCapabilities } from '../warehouse.js';

/** Redshift's widest `varchar`, in bytes: where a `text` column goes (its TEXT is only varchar(256)). */
export const REDSHIFT_MAX_VARCHAR_BYTES = 65_535;

/**
 * The bytes Redshift's `varchar` declared for a source `varchar(n)` holds: Redshift counts bytes,
 * and a UTF-8 character takes up to 4, so `min(4n, 65535)` holds every n-character value that fits
 * at all.
 */
export const redshiftVarcharBytes = (n: number): number => Math.min(4 * n, REDSHIFT_MAX_VARCHAR_BYTES);

/** The byte limit of a column of `type` on Redshift, or `Infinity` (the loaders' `ValueGuard` limit). */
export const redshiftByteLimit = (type: LogicalType): number =>
  type.kind === 'varchar'
    ? redshiftVarcharBytes(type.length)
    : type.kind === 'text'
      ? REDSHIFT_MAX_VARCHAR_BYTES
      : Infinity;

/** The value checks of a Redshift load (`ValueGuard` with Redshift's byte limits). */
export const redshiftValueGuard = (
  target: string,
  columns: readonly Column[],
  capabilities: WarehouseCapabilities,
): ValueGuard => new ValueGuard(target, columns, capabilities, redshiftByteLimit);

/** What a string needs work for: a quote to double, or U+0000 and U+FFFD for the guard's checks. */
const special = /["\0\uFFFD]/;

/**
 * Turns batches of rows into the CSV Redshift's `COPY … FORMAT AS CSV NULL AS '\N'` reads back
 * exactly, checking each value first as every loader does (`ValueGuard`): fields separated by `,`,
 * strings always double-quoted with `"` doubled (so delimiters, quotes and line breaks inside them
 * are data, and an empty string stays apart from NULL), NULL an unquoted `\N`, numbers and
 * booleans unquoted, each row ending in `\n`.
 */
export class CsvEncoder {
  private readonly guard: ValueGuard;

  constructor(
    target: string,
    private readonly columns: readonly Column[],
    capabilities: WarehouseCapabilities,
  ) {
    this.guard = redshiftValueGuard(target, columns, capabilities);
  }

  /** Rows encoded so far. */
  get rows(): number {
    return this.guard.rows;
  }

  /** The values written as NULL or reported so far (fails the load past `QUARANTINE_LIMIT`). */
  get quarantined(): readonly QuarantinedValue[] {
    return this.guard.quarantined;
  }

  /** Rows `start` to `end` (exclusive) of a batch as CSV in UTF-8. */
  encode(batch: readonly Row[], start = 0, end = batch.length): Buffer {
    const width = this.columns.length;
    return encodeLines(this.guard, batch, start, end, (row) => {
      let line = this.field(row[0] ?? null, 0, row);
      for (let i = 1; i < width; i++) line += ',' + this.field(row[i] ?? null, i, row);
      return line + '\n';
    });
  }

  private field(value: Value, column: number, row: Row): string {
    if (value === null || value === undefined) return '\\N';
    if (!this.guard.accepts(value, column, row)) return '\\N';
    switch (typeof value) {
      case 'string':
        if (!this.guard.fits(value, column, row)) return '\\N';
        if (!special.test(value)) return `"${value}"`;
        if (!this.guard.clean(value, column, row)) return '\\N';
        return `"${value.replaceAll('"', '""')}"`;
      case 'number':
        return String(value);
      case 'bigint':
        return value.toString();
      case 'boolean':
        return value ? 'true' : 'false';
      default:
        throw this.guard.notAValue(value, column, row);
    }
  }
}
