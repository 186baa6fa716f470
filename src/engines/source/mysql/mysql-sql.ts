import { maximaSql as maximaOf, rangePredicate } from '../range-sql.js';
import type { CursorRange } from '../source.js';

/** Quotes one MySQL identifier with backticks, doubling any backtick inside it. */
export const quoteMysql = (identifier: string): string => '`' + identifier.replaceAll('`', '``') + '`';

/** The window's predicate with bound values (see `rangePredicate`). */
export const mysqlRangePredicate = (range: CursorRange): { sql: string; values: bigint[] } =>
  rangePredicate(range, quoteMysql);

export const describeColumnsSql = `select column_name as name, data_type as dataType, column_type as columnType,
  character_maximum_length as charLength, numeric_precision as numericPrecision, numeric_scale as numericScale
from information_schema.columns
where table_schema = database() and table_name = ?
order by ordinal_position`;

export const countSql = (table: string, range: CursorRange): { sql: string; values: bigint[] } => {
  const where = mysqlRangePredicate(range);
  return { sql: `select count(*) as n from ${quoteMysql(table)} where ${where.sql}`, values: where.values };
};

/** The window's maxima (`maximaSql`), as text: a JS number would round an id past 2^53. */
export const maximaSql = (table: string, range: CursorRange): { sql: string; values: bigint[] } =>
  maximaOf(table, range, quoteMysql, (e) => `cast(${e} as char)`);

export const selectSql = (
  table: string,
  sourceNames: readonly string[],
  range: CursorRange,
): { sql: string; values: bigint[] } => {
  const where = mysqlRangePredicate(range);
  const list = sourceNames.map(quoteMysql).join(', ');
  return { sql: `select ${list} from ${quoteMysql(table)} where ${where.sql}`, values: where.values };
};
