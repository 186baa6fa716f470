import type { CursorRange } from '../source.js';

/** Quotes one MySQL identifier with backticks, doubling any backtick inside it. */
export const quoteMysql = (identifier: string): string => '`' + identifier.replaceAll('`', '``') + '`';

/** `from < column <= to` as a predicate with bound values (`from` null: no lower bound). */
export const mysqlRangePredicate = (range: CursorRange): { sql: string; values: number[] } => {
  const column = quoteMysql(range.column);
  return range.from === null
    ? { sql: `${column} <= ?`, values: [range.to] }
    : { sql: `${column} > ? and ${column} <= ?`, values: [range.from, range.to] };
};

export const describeColumnsSql = `select column_name as name, data_type as dataType, column_type as columnType,
  character_maximum_length as charLength, numeric_precision as numericPrecision, numeric_scale as numericScale
from information_schema.columns
where table_schema = database() and table_name = ?
order by ordinal_position`;

export const countSql = (table: string, range: CursorRange): { sql: string; values: number[] } => {
  const where = mysqlRangePredicate(range);
  return { sql: `select count(*) as n from ${quoteMysql(table)} where ${where.sql}`, values: where.values };
};

export const selectSql = (
  table: string,
  sourceNames: readonly string[],
  range: CursorRange,
): { sql: string; values: number[] } => {
  const where = mysqlRangePredicate(range);
  const list = sourceNames.map(quoteMysql).join(', ');
  return { sql: `select ${list} from ${quoteMysql(table)} where ${where.sql}`, values: where.values };
};
