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
 * How a source spells the strays for its planner: their predicate, and the id as `max` reads it.
 * MySQL's range optimizer reads the default as ranges of the cursor column's index.
 */
export interface StraySpelling {
  readonly predicate: (range: CursorRange, quote: Quote) => Predicate | null;
  readonly maxId: (quote: Quote) => string;
}

const nestedStrays: StraySpelling = { predicate: strayPredicate, maxId: (quote) => quote('id') };

/**
 * A window's predicate with `?` placeholders (MySQL and SQLite both), values bound as `bigint` so
 * ids past 2^53 compare exactly (both drivers send them as integer literals or int64).
 */
export const rangePredicate = (
  range: CursorRange,
  quote: Quote,
  spelling: StraySpelling = nestedStrays,
): Predicate => {
  const window = windowPredicate(range, quote);
  const strays = spelling.predicate(range, quote);
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
  spelling: StraySpelling = nestedStrays,
): Predicate => {
  const window = windowPredicate(range, quote);
  const strays = spelling.predicate(range, quote);
  const m = `(select max(${quote(range.column)}) from ${quote(table)} where ${window.sql})`;
  const s = strays
    ? `(select max(${spelling.maxId(quote)}) from ${quote(table)} where ${strays.sql})`
    : 'null';
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

/** One day's counts: keys whose newest version falls in it, and rows whose key is NULL. */
export interface DayCount {
  /** The day's first second, epoch seconds (UTC). */
  readonly day: bigint;
  readonly keyed: number;
  /**
   * The sum of those keys' version times, where the key does not hold the time: a key whose newest
   * version moved within the day changes it where the count stays (a same-day update missed).
   * `null` where the key holds the time (the count says it all).
   */
  readonly versions: bigint | null;
  readonly nullKeys: number;
}

const holdsTime = (spec: DayCountSpec): boolean =>
  spec.key.some((k) => k.toLowerCase() === spec.time.toLowerCase());

/**
 * The reconcile's source counts per UTC day, `?` placeholders: `keyed`, distinct keys by the day
 * of their newest version (a key holding the time counts each event in its own day) with the sum
 * of those versions' times, and `nulls`, rows with a NULL key column per day. Where the source
 * counts distinct column tuples (`count(distinct a, b, c)`, MySQL; it skips tuples holding a NULL)
 * an event table is counted in one pass; SQLite's `count(distinct …)` takes one column, so it
 * counts a `distinct` subquery. Columns `day`, `n`, `s`.
 */
export const dayCountsSql = (
  table: string,
  spec: DayCountSpec,
  quote: Quote,
  countsTuples: boolean,
): { keyed: Predicate; nulls: Predicate | null } => {
  const t = quote(spec.time);
  const keys = spec.key.filter((k) => k.toLowerCase() !== spec.time.toLowerCase()).map(quote);
  const present = spec.key.map((k) => `${quote(k)} is not null`).join(' and ');
  const source = quote(table);
  const span = [spec.from, spec.to];
  const nulls = `select ${t} - (${t} % 86400) as day, count(*) as n
  from ${source}
 where ${t} >= ? and ${t} < ? and not (${present})
 group by ${t} - (${t} % 86400)`;
  if (holdsTime(spec) && countsTuples)
    return {
      keyed: {
        sql: `select ${t} - (${t} % 86400) as day, count(distinct ${keys.join(', ')}, ${t}) as n, null as s,
       sum(case when ${present} then 0 else 1 end) as nulls
  from ${source}
 where ${t} >= ? and ${t} < ?
 group by ${t} - (${t} % 86400)`,
        values: span,
      },
      nulls: null,
    };
  if (holdsTime(spec))
    return {
      keyed: {
        sql: `select t - (t % 86400) as day, count(*) as n, null as s
  from (select distinct ${keys.join(', ')}, ${t} as t from ${source} where ${t} >= ? and ${t} < ? and ${present}) x
 group by t - (t % 86400)`,
        values: span,
      },
      nulls: { sql: nulls, values: span },
    };
  return {
    // The newest version over the whole table: an order updated today has left yesterday.
    keyed: {
      sql: `select t - (t % 86400) as day, count(*) as n, sum(t) as s
  from (select ${keys.join(', ')}, max(${t}) as t from ${source} where ${present} group by ${keys.join(', ')}) x
 where t >= ? and t < ?
 group by t - (t % 86400)`,
      values: span,
    },
    nulls: { sql: nulls, values: span },
  };
};

/** The ids of rows with a NULL key column whose time falls in one of `days` (each a day's start). */
export const nullKeyIdsSql = (
  table: string,
  spec: DayCountSpec,
  days: readonly bigint[],
  quote: Quote,
): Predicate => {
  const t = quote(spec.time);
  const present = spec.key.map((k) => `${quote(k)} is not null`).join(' and ');
  return {
    sql: `select ${quote('id')} as id from ${quote(table)}
 where (${days.map(() => `(${t} >= ? and ${t} < ?)`).join(' or ')}) and not (${present})`,
    values: days.flatMap((d) => [d, d + 86400n]),
  };
};

/** One row per day from the results of `dayCountsSql`, oldest first. */
export const mergeDayCounts = (
  keyed: readonly { day: bigint; n: number; s: bigint | null; nulls?: number }[],
  nulls: readonly { day: bigint; n: number }[],
): DayCount[] => {
  const days = new Map<bigint, { keyed: number; versions: bigint | null; nullKeys: number }>();
  for (const r of keyed) days.set(r.day, { keyed: r.n, versions: r.s, nullKeys: r.nulls ?? 0 });
  for (const r of nulls) days.set(r.day, { keyed: 0, versions: null, ...days.get(r.day), nullKeys: r.n });
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, c]) => ({ day, ...c }));
};
