import type { Column, QuarantinedValue, Row, Value } from '../../types.js';
import { encodeLines, ValueGuard } from '../value-guard.js';
import type { WarehouseCapabilities } from '../warehouse.js';

/** Characters that need work in COPY text format; NUL and U+FFFD are here so one test covers every check. */
const special = /[\\\t\n\r\0\uFFFD]/;
const escapable = /[\\\t\n\r]/g;
const escapes: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string): string => escapes[c] ?? c;

/**
 * Turns batches of rows into COPY `text` format (tab-separated, `\N` for NULL, backslash escapes),
 * checking each value against its column first (`ValueGuard`): a value the server would reject is
 * written as NULL and kept in `quarantined`, naming its column and row, so the rest of the window
 * lands (SPEC §5) rather than the whole COPY failing at a byte offset.
 */
export class CopyTextEncoder {
  private readonly guard: ValueGuard;

  constructor(
    target: string,
    private readonly columns: readonly Column[],
    capabilities: WarehouseCapabilities,
  ) {
    this.guard = new ValueGuard(target, columns, capabilities);
  }

  /** Rows encoded so far. */
  get rows(): number {
    return this.guard.rows;
  }

  /** The values written as NULL or reported so far (fails the load past `QUARANTINE_LIMIT`). */
  get quarantined(): readonly QuarantinedValue[] {
    return this.guard.quarantined;
  }

  /** One batch as COPY text in UTF-8, every row ending in a newline. */
  encode(batch: readonly Row[]): Buffer {
    const width = this.columns.length;
    return encodeLines(this.guard, batch, 0, batch.length, (row) => {
      let line = this.field(row[0] ?? null, 0, row);
      for (let i = 1; i < width; i++) line += '\t' + this.field(row[i] ?? null, i, row);
      return line + '\n';
    });
  }

  private field(value: Value, column: number, row: Row): string {
    if (value === null || value === undefined) return '\\N';
    if (!this.guard.accepts(value, column, row)) return '\\N';
    switch (typeof value) {
      case 'string':
        if (!this.guard.fits(value, column, row)) return '\\N';
        if (!special.test(value)) return value;
        if (!this.guard.clean(value, column, row)) return '\\N';
        return value.replace(escapable, escapeChar);
      case 'number':
        return String(value);
      case 'bigint':
        return value.toString();
      case 'boolean':
        return value ? 't' : 'f';
      default:
        throw this.guard.notAValue(value, column, row);
    }
  }
}
