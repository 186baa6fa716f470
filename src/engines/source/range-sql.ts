import type { CursorRange } from './source.js';

type Quote = (identifier: string) => string;
type Predicate = { sql: string; values: bigint[] };

/** The cursor's own bounds `(from, to]`, values bound as `bigint` (see `rangePredicate`). */
const windowPredicate = (range: CursorRange, quote: Quote): Predicate => {
  const column = quote(range.column);
  const parts: string[] = [];
  const values: bigint[] = [];
  if (range.from !== null) {
    parts.push(`${column} > ?`);
    values.push(range.from);
  }
  if (range.to !== null) {
    parts.push(`${column} <= ?`);
    values.push(range.to);
  }
  return { sql: parts.length > 0 ? parts.join(' and ') : 'true', values };
};

/** Rows no window of this column holds: NULL (or below the floor), taken by id instead. */
const strayPredicate = (range: CursorRange, quote: Quote): Predicate | null => {
  if (!range.strays) return null;
  const column = quote(range.column);
  const stray = [`${column} is null`];
  const values: bigint[] = [];
  if (range.strays.floor !== null) {
    stray.push(`${column} < ?`);
    values.push(range.strays.floor);
  }
  let sql = `(${stray.join(' or ')})`;
  if (range.strays.idAbove !== null) {
    sql = `${sql} and ${quote('id')} > ?`;
    values.push(range.strays.idAbove);
  }
  return { sql, values };
};

/**
 * A window's predicate with `?` placeholders (MySQL and SQLite both), values bound as `bigint` so
 * ids past 2^53 compare exactly (both drivers send them as integer literals or int64).
 */
export const rangePredicate = (range: CursorRange, quote: Quote): Predicate => {
  const window = windowPredicate(range, quote);
  const strays = strayPredicate(range, quote);
  if (!strays) return window;
  return { sql: `(${window.sql}) or (${strays.sql})`, values: [...window.values, ...strays.values] };
};

/**
 * `m`, the greatest cursor value of the window, and `s`, the greatest id among its strays (NULL
 * where it reads none), in one statement: each is an index look-up where the column is indexed,
 * where reading them back from what landed scanned the whole batch. `exact` wraps each so the
 * driver returns it without rounding.
 */
export const maximaSql = (
  table: string,
  range: CursorRange,
  quote: Quote,
  exact: (expression: string) => string = (e) => e,
): Predicate => {
  const window = windowPredicate(range, quote);
  const strays = strayPredicate(range, quote);
  const m = `(select max(${quote(range.column)}) from ${quote(table)} where ${window.sql})`;
  const s = strays ? `(select max(${quote('id')}) from ${quote(table)} where ${strays.sql})` : 'null';
  return {
    sql: `select ${exact(m)} as m, ${strays ? exact(s) : s} as s`,
    values: [...window.values, ...(strays?.values ?? [])],
  };
};
