/**
 * The column types the pipeline understands, independent of any engine. Source introspection maps
 * native types onto these; each warehouse dialect maps them back to DDL.
 */
export type LogicalType =
  | { readonly kind: 'bigint' }
  | { readonly kind: 'integer' }
  | { readonly kind: 'double' }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'varchar'; readonly length: number }
  | { readonly kind: 'text' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'date' }
  | { readonly kind: 'timestamp' };

export interface Column {
  /** Lower-case name, as the warehouse stores it (SPEC §2: Redshift folds identifiers). */
  readonly name: string;
  /** Name as the source spells it (e.g. `traceSeq`); equals `name` on the warehouse side. */
  readonly sourceName: string;
  readonly type: LogicalType;
}

/** One value as the engines exchange it: integers beyond 2^53, decimals, dates travel as strings. */
export type Value = string | number | bigint | boolean | null;

/** A row is positional, in the order of the column list it was read with. */
export type Row = Value[];

/**
 * Rows already in PostgreSQL's COPY text format (tab-separated, `\N` for NULL, backslash
 * escapes, a newline after each row), as a source that reads text off the wire can hand them over.
 */
export interface CopyTextBatch {
  readonly rows: number;
  readonly text: Buffer;
  /** Values the source wrote as NULL or replaced while writing these rows (see `QuarantinedValue`). */
  readonly quarantined?: readonly QuarantinedValue[];
}

/**
 * A value a load could not store as the source holds it (SPEC §5): `BAD_VALUE`, one the warehouse
 * cannot hold, stored as NULL and its row kept out of the marts; `INVALID_UTF8`, bytes that are not
 * UTF-8, replaced with U+FFFD (one per row, naming its first such column), the row flowing on.
 */
export interface QuarantinedValue {
  readonly type: 'BAD_VALUE' | 'INVALID_UTF8';
  readonly column: string;
  /** The row's source `id` as text, as exact as the source sent it; `null` when the row has none. */
  readonly id: string | null;
  /** Why, naming the value (shortened): `'abc' is not a decimal(10,2)`. */
  readonly reason: string;
}

export const typeName = (t: LogicalType): string => {
  switch (t.kind) {
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'varchar':
      return `varchar(${t.length})`;
    default:
      return t.kind;
  }
};

/** Decimal digits of the largest integer and bigint. */
const integerDigits = { integer: 10, bigint: 19 } as const;

/** Whether a value of `from` always fits a column of `to` (used by drift checks). */
export const widens = (from: LogicalType, to: LogicalType): boolean => {
  if (from.kind === to.kind) {
    if (from.kind === 'varchar' && to.kind === 'varchar') return from.length <= to.length;
    if (from.kind === 'decimal' && to.kind === 'decimal')
      return from.precision - from.scale <= to.precision - to.scale && from.scale <= to.scale;
    return true;
  }
  // Any decimal's digits fit text exactly: a decimal the warehouse stores as text (`storedType`).
  if (to.kind === 'text') return from.kind === 'varchar' || from.kind === 'text' || from.kind === 'decimal';
  if (to.kind === 'bigint') return from.kind === 'integer';
  // MySQL's BIGINT UNSIGNED (decimal(20,0)) where an older release kept bigint.
  if (to.kind === 'decimal' && (from.kind === 'integer' || from.kind === 'bigint'))
    return to.precision - to.scale >= integerDigits[from.kind];
  return false;
};

/**
 * `JSON.stringify` replacer for values that may hold a `bigint`: a number while it is exact, else
 * its decimal text, as integers past 2^53 travel everywhere else (see `Value`).
 */
export const bigintAsJson = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint'
    ? value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
    : value;
