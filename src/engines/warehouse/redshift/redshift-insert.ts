import type { Column, Row, Value } from '../../types.js';
import type { ValueGuard } from '../value-guard.js';
import { qualifiedTable, quoteIdentifier } from '../postgres/postgres-dialect.js';
import type { LoadResult, WarehouseCapabilities } from '../warehouse.js';
import { redshiftValueGuard } from './redshift-csv.js';

/** The default size of one INSERT, in UTF-8 bytes: well below Redshift's 16 MiB statement limit. */
export const DEFAULT_MAX_STATEMENT_BYTES = 8 * 1024 * 1024;

/** What a string literal needs work for: a quote or backslash, or U+0000 and U+FFFD for the guard's checks. */
const special = /['\\\0\uFFFD]/;

/**
 * A string as an SQL literal that reads the same on Redshift and PostgreSQL. Redshift treats a
 * backslash in a literal as an escape (its QUOTE_LITERAL doubles backslashes:
 * https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html), PostgreSQL does not
 * (`standard_conforming_strings`), so a backslash is written as `chr(92)` between quoted pieces.
 */
export const stringLiteral = (s: string): string => {
  const quoted = (piece: string): string => `'${piece.replaceAll("'", "''")}'`;
  return s.includes('\\') ? s.split('\\').map(quoted).join(' || chr(92) || ') : quoted(s);
};

/**
 * One row's values as SQL literals, after the same checks as every loader (`ValueGuard`): a value
 * the column cannot hold becomes NULL and is reported. Strings (decimals, dates and timestamps
 * among them) are unknown-typed literals that Redshift casts into the column; a number that is not
 * finite is quoted too (`'NaN'`, `'Infinity'`), as only the float types hold it.
 */
class LiteralEncoder {
  constructor(private readonly guard: ValueGuard) {}

  tuple(row: Row): string {
    this.guard.startRow(row);
    let tuple = '(' + this.literal(row[0] ?? null, 0, row);
    for (let i = 1; i < row.length; i++) tuple += ', ' + this.literal(row[i] ?? null, i, row);
    return tuple + ')';
  }

  private literal(value: Value, column: number, row: Row): string {
    if (value === null || value === undefined) return 'null';
    if (!this.guard.accepts(value, column, row)) return 'null';
    switch (typeof value) {
      case 'string':
        if (!this.guard.fits(value, column, row)) return 'null';
        if (!special.test(value)) return `'${value}'`;
        if (!this.guard.clean(value, column, row)) return 'null';
        return stringLiteral(value);
      case 'number':
        return Number.isFinite(value) ? String(value) : `'${String(value)}'`;
      case 'bigint':
        return value.toString();
      case 'boolean':
        return value ? 'true' : 'false';
      default:
        throw this.guard.notAValue(value, column, row);
    }
  }
}

/**
 * Loads rows with multi-row `insert into "schema"."table" (…) values (…), (…)` statements, the
 * values written as literals: the load path where no S3 bucket is configured. Each statement is
 * kept at most `maxStatementBytes` of UTF-8 (default 8 MiB, `DEFAULT_MAX_STATEMENT_BYTES`), so
 * memory stays bounded by one statement; a row too large for a statement on its own fails the load,
 * naming the table and the row.
 *
 * Values are checked first as in every loader: one the column cannot hold (out of range, not a
 * number or date, over the column's bytes, U+0000) is inserted as NULL and reported, a string
 * holding U+FFFD reported once per row (`quarantined`); the rest of the row lands. Returns the rows
 * the server reports inserted.
 */
export const insertRows = async (
  connection: { execute(sql: string): Promise<number> },
  capabilities: WarehouseCapabilities,
  schema: string,
  table: string,
  columns: readonly Column[],
  rows: AsyncIterable<readonly Row[]>,
  options: { readonly maxStatementBytes?: number } = {},
): Promise<LoadResult> => {
  const maxBytes = options.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES;
  const target = `${schema}.${table}`;
  const guard = redshiftValueGuard(target, columns, capabilities);
  const encoder = new LiteralEncoder(guard);
  const head = `insert into ${qualifiedTable(schema, table)} (${columns.map((c) => quoteIdentifier(c.name)).join(', ')}) values\n`;
  const headBytes = Buffer.byteLength(head, 'utf8');
  const separatorBytes = 2; // ",\n" between tuples
  let tuples: string[] = [];
  let bytes = headBytes;
  let inserted = 0;
  const flush = async (): Promise<void> => {
    if (tuples.length === 0) return;
    const sql = head + tuples.join(',\n');
    tuples = [];
    bytes = headBytes;
    inserted += await connection.execute(sql);
  };
  for await (const batch of rows) {
    for (const row of batch) {
      const tuple = encoder.tuple(row);
      const size = Buffer.byteLength(tuple, 'utf8');
      if (headBytes + size > maxBytes)
        throw new Error(
          `cannot load ${target}: row ${guard.rowRef(row)} alone makes an INSERT of ${headBytes + size} bytes, more than the ${maxBytes} allowed; load this table through S3 staging (COPY), or raise the statement size`,
        );
      if (tuples.length > 0 && bytes + separatorBytes + size > maxBytes) await flush();
      bytes += (tuples.length > 0 ? separatorBytes : 0) + size;
      tuples.push(tuple);
    }
  }
  await flush();
  return { rows: inserted, quarantined: guard.quarantined };
};
