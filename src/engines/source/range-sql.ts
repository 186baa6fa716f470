import type { CursorRange } from './source.js';

/**
 * A window's predicate with `?` placeholders (MySQL and SQLite both), values bound as `bigint` so
 * ids past 2^53 compare exactly (both drivers send them as integer literals or int64).
 */
export const rangePredicate = (
  range: CursorRange,
  quote: (identifier: string) => string,
): { sql: string; values: bigint[] } => {
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
  const window = parts.length > 0 ? parts.join(' and ') : 'true';
  if (!range.strays) return { sql: window, values };
  // Rows no window of this column holds: NULL (or below the floor), taken by id instead.
  const stray = [`${column} is null`];
  const strayValues: bigint[] = [];
  if (range.strays.floor !== null) {
    stray.push(`${column} < ?`);
    strayValues.push(range.strays.floor);
  }
  let sql = `(${stray.join(' or ')})`;
  if (range.strays.idAbove !== null) {
    sql = `${sql} and ${quote('id')} > ?`;
    strayValues.push(range.strays.idAbove);
  }
  return { sql: `(${window}) or (${sql})`, values: [...values, ...strayValues] };
};
