import { maximaSql as maximaOf, rangePredicate, type StraySpelling } from '../range-sql.js';
import type { CursorRange } from '../source.js';

/** Quotes one SQLite identifier with double quotes, doubling any double quote inside it. */
export const quoteSqlite = (identifier: string): string => '"' + identifier.replaceAll('"', '""') + '"';

/**
 * SQLite reads an OR as ranges of an index only when each of its terms is one, so the strays go as
 * one term per kind over the cursor column's index, and `+id` keeps the id mark a filter on those
 * few rows: as a rowid range it read every row above the mark, and the whole table while no stray
 * had been found. `is null` only where the column can hold NULL: on a NOT NULL column SQLite
 * answers it by scanning the table. `max(+id)` for the same reason: `max(id)` walks the rowids
 * down from the top until a stray matches.
 */
export const sqliteStrays = (nullable: boolean): StraySpelling => ({
  predicate: (range, quote) => {
    if (!range.strays) return null;
    const { floor, idAbove } = range.strays;
    const column = quote(range.column);
    const above = idAbove === null ? [] : [idAbove];
    const terms: { sql: string; values: bigint[] }[] = [];
    if (nullable) terms.push({ sql: `${column} is null`, values: [] });
    if (floor !== null) terms.push({ sql: `${column} < ?`, values: [floor] });
    if (terms.length === 0) return null; // a NOT NULL column with no floor has no strays
    const mark = idAbove === null ? '' : ` and +${quote('id')} > ?`;
    return {
      sql: terms.map((t) => `(${t.sql}${mark})`).join(' or '),
      values: terms.flatMap((t) => [...t.values, ...above]),
    };
  },
  maxId: (quote) => `+${quote('id')}`,
});

/**
 * The window's predicate with bound values (see `rangePredicate`); `nullable`: whether the cursor
 * column can hold NULL (a NULL is a stray).
 */
export const sqliteRangePredicate = (
  range: CursorRange,
  nullable = true,
): { sql: string; values: bigint[] } => rangePredicate(range, quoteSqlite, sqliteStrays(nullable));

/** The window's maxima (`maximaSql`); read with `safeIntegers` so ids past 2^53 stay exact. */
export const maximaSql = (
  table: string,
  range: CursorRange,
  nullable = true,
): { sql: string; values: bigint[] } =>
  maximaOf(table, range, quoteSqlite, undefined, sqliteStrays(nullable));

export const countSql = (
  table: string,
  range: CursorRange,
  nullable = true,
): { sql: string; values: bigint[] } => {
  const where = sqliteRangePredicate(range, nullable);
  return { sql: `select count(*) from ${quoteSqlite(table)} where ${where.sql}`, values: where.values };
};

export const selectSql = (
  table: string,
  sourceNames: readonly string[],
  range: CursorRange,
  nullable = true,
): { sql: string; values: bigint[] } => {
  const where = sqliteRangePredicate(range, nullable);
  const list = sourceNames.map(quoteSqlite).join(', ');
  return { sql: `select ${list} from ${quoteSqlite(table)} where ${where.sql}`, values: where.values };
};
