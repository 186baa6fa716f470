/**
 * SQL fragments every phase of a mart's plan shares: quoting, key matches, version order, the
 * exceptions ledger's identity of a row, the work tables. Pure.
 */
import type { Schemas } from '../../config/settings.js';
import type { Column } from '../../engines/types.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import type { MartFacts } from './facts.js';
import { histTablePattern, mart as martSpec, storageKey, type MartSpec } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { parsePeriod } from '../periods.js';
import { stmt, type Statement } from '../statement.js';

/**
 * Tables filled with fewer rows than this are not ANALYZEd. Below it the planner's estimate from
 * the table's size serves (the joins are index look-ups or small hash joins either way), and in a
 * 15-minute cycle the three ANALYZEs cost more than the plans they would improve; a backlog's
 * millions of rows need the statistics (without them PostgreSQL mis-sizes its hash joins and sorts).
 */
export const ANALYZE_MIN_ROWS = 200_000;

/** ANALYZE `table` when the statement just before it changed `ANALYZE_MIN_ROWS` rows or more. */
export const analyzeIfFilled = (d: Dialect, table: string): Statement[] => {
  const sql = d.analyze(table);
  return sql ? [{ ...stmt(sql), onlyFrom: ANALYZE_MIN_ROWS }] : [];
};

/**
 * The row id the match records beside each pair it joins (`ot_row` the delta's, `ot_mart_row` the
 * mart's), or null: only where rows have one and the match is a join of delta and mart rather than
 * the newest mart row per key (`stageByLeftJoin`).
 */
export const matchLocator = (d: Dialect): Dialect['capabilities']['rowId'] =>
  d.capabilities.stageByLeftJoin ? null : d.capabilities.rowId;

/**
 * `<id> = any(array(<ids>))`: the rows (of `alias`) whose row id (`matchLocator`) the query selects.
 * PostgreSQL reads each by its `ctid`, a TID scan rather than a join; DuckDB semi-joins its `rowid`.
 */
export const byRowId = (id: 'ctid' | 'rowid', ids: string, alias?: string): string => {
  const ref = `${alias ? `${alias}.` : ''}${id}`;
  return id === 'ctid' ? `${ref} = any(array(${ids}))` : `${ref} in (${ids})`;
};

export const deltaTable = (spec: MartSpec): string => `ot_delta_${spec.name}`;
export const stageTable = (spec: MartSpec): string => `ot_stage_${spec.name}`;
export const matchTable = (spec: MartSpec): string => `ot_match_${spec.name}`;
export const reviveTable = (spec: MartSpec): string => `ot_revive_${spec.name}`;
export const badRowsTable = (spec: MartSpec): string => `ot_bad_${spec.name}`;

/** The work tables a mart's plan creates, dropped inside its transaction. */
export const workTables = (spec: MartSpec): readonly string[] => [
  deltaTable(spec),
  matchTable(spec),
  stageTable(spec),
  reviveTable(spec),
  badRowsTable(spec),
];

/** `a.x, a.y` (or `x, y` without an alias), every name quoted. */
export const quoted = (d: Dialect, columns: readonly string[], alias?: string): string =>
  columns.map((c) => (alias ? `${alias}.${d.quote(c)}` : d.quote(c))).join(', ');

export const names = (d: Dialect, columns: readonly Column[], alias?: string): string =>
  quoted(
    d,
    columns.map((c) => c.name),
    alias,
  );

/**
 * `delete from <table> as <alias>` and the name its columns are qualified with. Where a DELETE
 * takes no alias (Redshift), the table's own last name part stands for it.
 */
export const deleteFrom = (d: Dialect, table: string, alias: string): { head: string; ref: string } =>
  d.capabilities.deleteAlias
    ? { head: `delete from ${table} as ${alias}`, ref: alias }
    : {
        head: `delete from ${table}`,
        ref: table.includes('."') ? table.slice(table.lastIndexOf('."') + 1) : table,
      };

/** ` and a.ts >= lo and a.ts <= hi`: the batch's time range as literals (`MartFacts.batchRange`), or ''. */
export const inBatchRange = (
  d: Dialect,
  spec: MartSpec,
  f: Pick<MartFacts, 'batchRange'>,
  alias: string,
): string => {
  const range = f.batchRange;
  if (!range) return '';
  const ts = `${alias}.${d.quote(spec.ts)}`;
  return ` and ${ts} >= ${Math.trunc(range.lo)} and ${ts} <= ${Math.trunc(range.hi)}`;
};

/** The hist tables a batch's keys can be in: every one, or those whose period meets its time range. */
export const histTablesFor = (
  spec: MartSpec,
  f: Pick<MartFacts, 'batchRange' | 'histTables'>,
): readonly string[] => {
  const range = f.batchRange;
  if (!range) return f.histTables;
  return f.histTables.filter((h) => {
    const period = parsePeriod(histTablePattern(spec).exec(h)?.[1] ?? '');
    return !period || (period.start <= range.hi && period.end > range.lo);
  });
};

/** `a.k1 = b.k1 and a.k2 = b.k2` */
export const keyMatch = (d: Dialect, spec: MartSpec, a: string, b: string): string =>
  spec.key.map((k) => `${a}.${d.quote(k)} = ${b}.${d.quote(k)}`).join(' and ');

/**
 * `a` is strictly newer than `b` by the columns, most significant first. Written out rather than as
 * a row comparison so every dialect (Redshift included) reads it.
 */
export const newer = (d: Dialect, columns: readonly string[], a: string, b: string): string => {
  const [first, ...rest] = columns;
  if (first === undefined) return 'false';
  const x = `${a}.${d.quote(first)}`;
  const y = `${b}.${d.quote(first)}`;
  return rest.length === 0 ? `${x} > ${y}` : `(${x} > ${y} or (${x} = ${y} and ${newer(d, rest, a, b)}))`;
};

/**
 * The columns a re-extracted row can differ in: all but the key (already matched) and the load
 * columns. Rows of the overlap re-read (SPEC §3) come back equal in all of them.
 */
export const payload = (spec: MartSpec, columns: readonly Column[]): readonly string[] =>
  columns.map((c) => c.name).filter((c) => !spec.key.includes(c) && c !== '_batch_id' && c !== '_loaded_at');

/**
 * `a` and `b` hold the same values, NULL equal to NULL. Spelled out, like `newer`, rather than
 * `is not distinct from`, so the one form reads the same on every engine.
 */
export const sameValues = (d: Dialect, columns: readonly string[], a: string, b: string): string =>
  columns.length === 0
    ? 'true'
    : `(${columns
        .map((c) => {
          const [x, y] = [`${a}.${d.quote(c)}`, `${b}.${d.quote(c)}`];
          return `(${x} = ${y} or (${x} is null and ${y} is null))`;
        })
        .join(' and ')})`;

/**
 * ` order by <event time>` where the engine prunes storage blocks by min/max (zone maps): rows
 * written in time order keep a batch's look-ups, which span the last days, to the newest blocks.
 */
export const timeOrder = (d: Dialect, spec: MartSpec, alias?: string): string =>
  d.capabilities.zoneMaps ? ` order by ${alias ? `${alias}.` : ''}${d.quote(spec.ts)}` : '';

/** Key columns besides order_id that identify a row in the exceptions ledger (mart_uts: traceseq, pathtime). */
export const exceptionKey = (spec: MartSpec): readonly string[] => spec.key.filter((k) => k !== 'order_id');

export const openException = (d: Dialect, s: Schemas, spec: MartSpec, type: string, row: string): string => {
  const e = exceptionsTable(s);
  // The event time too: a newer version of the same order is not held by an older row's gap.
  const match = [
    ...['order_id', ...exceptionKey(spec)].map((k) => `e.${d.quote(k)} = ${row}.${d.quote(k)}`),
    `e.event_time = ${row}.${d.quote(spec.ts)}`,
  ].join(' and ');
  return `exists (select 1 from ${d.table(e.schema, e.name)} e
       where e.exception_type = '${type}' and e.resolved_at is null and e.source_table = '${spec.source}' and ${match})`;
};

export const exceptionColumns =
  'order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes';

/** The identity columns of a row for the ledger: `traceseq, pathtime` or `null, null`. */
export const exceptionIdentity = (d: Dialect, spec: MartSpec, row: string): string =>
  ['traceseq', 'pathtime'].map((k) => (spec.key.includes(k) ? `${row}.${d.quote(k)}` : 'null')).join(', ');

/**
 * When the key holds the timestamp (mart_uts), a row can only live in the hist table of its own
 * period: look-ups skip the others instead of probing every period's index.
 */
export const periodFilter = (d: Dialect, spec: MartSpec, hist: string, row: string): string => {
  if (!spec.key.includes(spec.ts)) return '';
  const period = parsePeriod(histTablePattern(spec).exec(hist)?.[1] ?? '');
  if (!period) return '';
  const ts = `${row}.${d.quote(spec.ts)}`;
  return ` and ${ts} >= ${period.start} and ${ts} < ${period.end}`;
};

/** Every key column and the timestamp are present: a row missing one cannot be placed. */
export const complete = (d: Dialect, spec: MartSpec, row?: string): string =>
  [...new Set([...spec.key, spec.ts])]
    .map((c) => `${row ? `${row}.` : ''}${d.quote(c)} is not null`)
    .join(' and ');

/**
 * `create temporary table … as` one row per key of `from`, the newest by the version order, then
 * `_batch_id` (SPEC §2). `alias` qualifies the columns where `from` joins tables holding them all.
 */
export const newestPerKey = (
  d: Dialect,
  spec: MartSpec,
  table: string,
  columns: readonly Column[],
  from: string,
  alias?: string,
): string => {
  const col = (c: string): string => (alias ? `${alias}.${d.quote(c)}` : d.quote(c));
  const order = [...spec.version, '_batch_id'].map((c) => `${col(c)} desc`).join(', ');
  const key = quoted(d, storageKey(spec), alias);
  if (d.capabilities.distinctOn)
    return `create temporary table ${table} as
select distinct on (${key}) ${names(d, columns, alias)}
from ${from}
order by ${key}, ${order}`;
  return `create temporary table ${table} as
select ${names(d, columns)} from (
  select ${names(d, columns, alias)}, row_number() over (partition by ${key} order by ${order}) as ot_rank
  from ${from}
) ranked
where ot_rank = 1`;
};

/** The rows of the mart (alias `m`) that have aged out in `[from, to)` and are not held by an exception. */
export const aged = (d: Dialect, spec: MartSpec, s: Schemas, m: string): string => {
  const ts = `${m}.${d.quote(spec.ts)}`;
  const held = openException(d, s, spec, spec.gapException, m);
  const order =
    spec.retention === 'order'
      ? `\n   and not exists (select 1 from ${d.table(s.mart, martSpec('mart_uti').table)} u where u.order_id = ${m}.order_id)`
      : '';
  return `${ts} >= $1 and ${ts} < $2${order}\n   and not ${held}`;
};
