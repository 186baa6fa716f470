import { maximaSql as maximaOf, rangePredicate } from '../range-sql.js';
import type { CursorRange } from '../source.js';

/** Quotes one SQLite identifier with double quotes, doubling any double quote inside it. */
export const quoteSqlite = (identifier: string): string => '"' + identifier.replaceAll('"', '""') + '"';

/** The window's predicate with bound values (see `rangePredicate`). */
export const sqliteRangePredicate = (range: CursorRange): { sql: string; values: bigint[] } =>
  rangePredicate(range, quoteSqlite);

/** The window's maxima (`maximaSql`); read with `safeIntegers` so ids past 2^53 stay exact. */
export const maximaSql = (table: string, range: CursorRange): { sql: string; values: bigint[] } =>
  maximaOf(table, range, quoteSqlite);

export const countSql = (table: string, range: CursorRange): { sql: string; values: bigint[] } => {
  const where = sqliteRangePredicate(range);
  return { sql: `select count(*) from ${quoteSqlite(table)} where ${where.sql}`, values: where.values };
};

export const selectSql = (
  table: string,
  sourceNames: readonly string[],
  range: CursorRange,
): { sql: string; values: bigint[] } => {
  const where = sqliteRangePredicate(range);
  const list = sourceNames.map(quoteSqlite).join(', ');
  return { sql: `select ${list} from ${quoteSqlite(table)} where ${where.sql}`, values: where.values };
};
