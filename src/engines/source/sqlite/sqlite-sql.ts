import type { CursorRange } from '../source.js';

/** Quotes one SQLite identifier with double quotes, doubling any double quote inside it. */
export const quoteSqlite = (identifier: string): string => '"' + identifier.replaceAll('"', '""') + '"';

/** `from < column <= to` as a predicate with bound values (`from` null: no lower bound). */
export const sqliteRangePredicate = (range: CursorRange): { sql: string; values: number[] } => {
  const column = quoteSqlite(range.column);
  return range.from === null
    ? { sql: `${column} <= ?`, values: [range.to] }
    : { sql: `${column} > ? and ${column} <= ?`, values: [range.from, range.to] };
};

export const countSql = (table: string, range: CursorRange): { sql: string; values: number[] } => {
  const where = sqliteRangePredicate(range);
  return { sql: `select count(*) from ${quoteSqlite(table)} where ${where.sql}`, values: where.values };
};

export const selectSql = (
  table: string,
  sourceNames: readonly string[],
  range: CursorRange,
): { sql: string; values: number[] } => {
  const where = sqliteRangePredicate(range);
  const list = sourceNames.map(quoteSqlite).join(', ');
  return { sql: `select ${list} from ${quoteSqlite(table)} where ${where.sql}`, values: where.values };
};
