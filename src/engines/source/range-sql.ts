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

/** What the reconcile counts per day (SPEC §6): a table's keys as its mart defines them. */
export interface DayCountSpec {
  /** The event-time column the days are taken over (epoch seconds). */
  readonly time: string;
  /** The mart's key; when it holds `time`, each key is one event, else the key's newest version counts. */
  readonly key: readonly string[];
  /** The first second counted (a day's start) and the first second not counted. */
  readonly from: bigint;
  readonly to: bigint;
}

/** One day's counts: keys whose newest version falls in it, and the ids of rows whose key is NULL. */
export interface DayCount {
  /** The day's first second, epoch seconds (UTC). */
  readonly day: bigint;
  readonly keyed: number;
  /**
   * The sum of those keys' version times: a key whose newest version moved within the day changes
   * it where the count stays (a same-day update the warehouse missed).
   */
  readonly versions: bigint;
  /** Few, as a rule: the ledger is checked for each by id, since their times change in place. */
  readonly nullIds: readonly bigint[];
}

/**
 * The reconcile's two source counts per UTC day, `?` placeholders (MySQL and SQLite both; `%` and
 * `count(*)` over a `distinct` subquery, since SQLite's `count(distinct …)` takes one column):
 * `keyed`, distinct keys by the day of their newest version (a key holding the time counts each
 * event in its own day) with the sum of those versions' times, and `nulls`, the ids and days of rows with a NULL key column.
 */
export const dayCountsSql = (
  table: string,
  spec: DayCountSpec,
  quote: Quote,
): { keyed: Predicate; nulls: Predicate } => {
  const t = quote(spec.time);
  const keys = spec.key.filter((k) => k.toLowerCase() !== spec.time.toLowerCase()).map(quote);
  const present = spec.key.map((k) => `${quote(k)} is not null`).join(' and ');
  const source = quote(table);
  const keyed = spec.key.some((k) => k.toLowerCase() === spec.time.toLowerCase())
    ? `select t - (t % 86400) as day, count(*) as n, sum(t) as s
  from (select distinct ${keys.join(', ')}, ${t} as t from ${source} where ${t} >= ? and ${t} < ? and ${present}) x
 group by t - (t % 86400)`
    : // The newest version over the whole table: an order updated today has left yesterday.
      `select t - (t % 86400) as day, count(*) as n, sum(t) as s
  from (select ${keys.join(', ')}, max(${t}) as t from ${source} where ${present} group by ${keys.join(', ')}) x
 where t >= ? and t < ?
 group by t - (t % 86400)`;
  const nulls = `select ${quote('id')} as id, ${t} - (${t} % 86400) as day
  from ${source}
 where ${t} >= ? and ${t} < ? and not (${present})`;
  return {
    keyed: { sql: keyed, values: [spec.from, spec.to] },
    nulls: { sql: nulls, values: [spec.from, spec.to] },
  };
};

/** Merges the two result sets of `dayCountsSql` into one row per day, oldest first. */
export const mergeDayCounts = (
  keyed: readonly { day: bigint; n: number; s: bigint }[],
  nulls: readonly { day: bigint; id: bigint }[],
): DayCount[] => {
  const days = new Map<bigint, { keyed: number; versions: bigint; nullIds: bigint[] }>();
  for (const r of keyed) days.set(r.day, { keyed: r.n, versions: r.s, nullIds: [] });
  for (const r of nulls) {
    const day = days.get(r.day) ?? { keyed: 0, versions: 0n, nullIds: [] };
    day.nullIds.push(r.id);
    days.set(r.day, day);
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, c]) => ({ day, ...c }));
};
