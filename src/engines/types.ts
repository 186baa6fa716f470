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

/** Whether a value of `from` always fits a column of `to` (used by drift checks). */
export const widens = (from: LogicalType, to: LogicalType): boolean => {
  if (from.kind === to.kind) {
    if (from.kind === 'varchar' && to.kind === 'varchar') return from.length <= to.length;
    if (from.kind === 'decimal' && to.kind === 'decimal')
      return from.precision - from.scale <= to.precision - to.scale && from.scale <= to.scale;
    return true;
  }
  if (to.kind === 'text') return from.kind === 'varchar' || from.kind === 'text';
  if (to.kind === 'bigint') return from.kind === 'integer';
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
