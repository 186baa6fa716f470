/**
 * The SQL of one mart task, planned from data (a MartSpec) and the run's facts. Pure: nothing here
 * touches a connection, so `order-tracking sql` prints it and golden files pin it per dialect.
 */
import type { Schemas } from '../config/settings.js';
import type { Column, Value } from '../engines/types.js';
import type { Dialect } from '../engines/warehouse/warehouse.js';
import { createTable } from './ddl.js';
import { exceptionsTable, metaTables } from './meta.js';
import { histTableName, histTablePattern, mart as martSpec, storageKey, type MartSpec } from './marts.js';
import { FUTURE_TOLERANCE_SECONDS, parsePeriod, type Period } from './periods.js';
import { rawTableName } from './tables.js';

export interface Statement {
  readonly sql: string;
  readonly params: readonly Value[];
  /** What the runner reports the changed row count as, if anything (`inserted`, `archived:2025_h2`…). */
  readonly counts?: string;
  /** Run only when the statement before it changed at least this many rows. */
  readonly onlyFrom?: number;
}

/**
 * Tables filled with fewer rows than this are not ANALYZEd. Below it the planner's estimate from
 * the table's size serves (the joins are index look-ups or small hash joins either way), and in a
 * 15-minute cycle the three ANALYZEs cost more than the plans they would improve; a backlog's
 * millions of rows need the statistics (without them PostgreSQL mis-sizes its hash joins and sorts).
 */
export const ANALYZE_MIN_ROWS = 200_000;

/** ANALYZE `table` when the statement just before it changed `ANALYZE_MIN_ROWS` rows or more. */
const analyzeIfFilled = (d: Dialect, table: string): Statement[] => {
  const sql = d.analyze(table);
  return sql ? [{ ...stmt(sql), onlyFrom: ANALYZE_MIN_ROWS }] : [];
};

export interface MartFacts {
  readonly schemas: Schemas;
  /** The mart's columns in table order (source columns lower-cased, then `_batch_id`, `_loaded_at`). */
  readonly columns: readonly Column[];
  /** Raw batches `(fromBatch, toBatch]` are consumed by this run. */
  readonly fromBatch: number;
  readonly toBatch: number;
  /** The run's clock, epoch seconds. */
  readonly now: number;
  /** Hist tables of this mart that exist now. */
  readonly histTables: readonly string[];
  /**
   * The raw batches holding rows of open FUTURE_TIMESTAMP exceptions of this table that are now
   * due (`planFutureBatches`): those rows join the batch. Empty when none is due; `all` when a
   * batch read by a cursor other than the id or the timestamp may hold one (raw is searched whole).
   */
  readonly futureBatches: readonly number[] | 'all';
  /** mart_ecs only: uni_tracking_info batches `(fromUtiBatch, toUtiBatch]` mart_uti consumed since. */
  readonly fromUtiBatch?: number;
  readonly toUtiBatch?: number;
}

export interface ArchiveFacts {
  readonly schemas: Schemas;
  readonly columns: readonly Column[];
  /** Rows with a timestamp below this leave the mart (SPEC §4). */
  readonly cutoff: number;
  /** Periods holding aged rows, oldest first. */
  readonly periods: readonly Period[];
  readonly frozen: ReadonlySet<string>;
  /** Hist tables of this mart that exist already. */
  readonly existing: readonly string[];
}

const stmt = (sql: string, params: readonly Value[] = [], counts?: string): Statement => ({
  sql,
  params,
  counts,
});

export const deltaTable = (spec: MartSpec): string => `ot_delta_${spec.name}`;
export const stageTable = (spec: MartSpec): string => `ot_stage_${spec.name}`;
export const matchTable = (spec: MartSpec): string => `ot_match_${spec.name}`;

/** `a.x, a.y` (or `x, y` without an alias), every name quoted. */
const quoted = (d: Dialect, columns: readonly string[], alias?: string): string =>
  columns.map((c) => (alias ? `${alias}.${d.quote(c)}` : d.quote(c))).join(', ');

const names = (d: Dialect, columns: readonly Column[], alias?: string): string =>
  quoted(
    d,
    columns.map((c) => c.name),
    alias,
  );

/** `a.k1 = b.k1 and a.k2 = b.k2` */
const keyMatch = (d: Dialect, spec: MartSpec, a: string, b: string): string =>
  spec.key.map((k) => `${a}.${d.quote(k)} = ${b}.${d.quote(k)}`).join(' and ');

/**
 * `a` is strictly newer than `b` by the columns, most significant first. Written out rather than as
 * a row comparison so every dialect (Redshift included) reads it.
 */
const newer = (d: Dialect, columns: readonly string[], a: string, b: string): string => {
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
const payload = (spec: MartSpec, columns: readonly Column[]): readonly string[] =>
  columns.map((c) => c.name).filter((c) => !spec.key.includes(c) && c !== '_batch_id' && c !== '_loaded_at');

/**
 * `a` and `b` hold the same values, NULL equal to NULL. Spelled out, like `newer`, rather than
 * `is not distinct from`, so the one form reads the same on every engine.
 */
const sameValues = (d: Dialect, columns: readonly string[], a: string, b: string): string =>
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
const timeOrder = (d: Dialect, spec: MartSpec, alias?: string): string =>
  d.capabilities.zoneMaps ? ` order by ${alias ? `${alias}.` : ''}${d.quote(spec.ts)}` : '';

/** Key columns besides order_id that identify a row in the exceptions ledger (mart_uts: traceseq, pathtime). */
const exceptionKey = (spec: MartSpec): readonly string[] => spec.key.filter((k) => k !== 'order_id');

const openException = (d: Dialect, s: Schemas, spec: MartSpec, type: string, row: string): string => {
  const e = exceptionsTable(s);
  // The event time too: a newer version of the same order is not held by an older row's gap.
  const match = [
    ...['order_id', ...exceptionKey(spec)].map((k) => `e.${d.quote(k)} = ${row}.${d.quote(k)}`),
    `e.event_time = ${row}.${d.quote(spec.ts)}`,
  ].join(' and ');
  return `exists (select 1 from ${d.table(e.schema, e.name)} e
       where e.exception_type = '${type}' and e.resolved_at is null and e.source_table = '${spec.source}' and ${match})`;
};

const exceptionColumns =
  'order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes';

/** The identity columns of a row for the ledger: `traceseq, pathtime` or `null, null`. */
const exceptionIdentity = (d: Dialect, spec: MartSpec, row: string): string =>
  ['traceseq', 'pathtime'].map((k) => (spec.key.includes(k) ? `${row}.${d.quote(k)}` : 'null')).join(', ');

/**
 * When the key holds the timestamp (mart_uts), a row can only live in the hist table of its own
 * period: look-ups skip the others instead of probing every period's index.
 */
const periodFilter = (d: Dialect, spec: MartSpec, hist: string, row: string): string => {
  if (!spec.key.includes(spec.ts)) return '';
  const period = parsePeriod(histTablePattern(spec).exec(hist)?.[1] ?? '');
  if (!period) return '';
  const ts = `${row}.${d.quote(spec.ts)}`;
  return ` and ${ts} >= ${period.start} and ${ts} < ${period.end}`;
};

/** Every key column and the timestamp are present: a row missing one cannot be placed. */
const complete = (d: Dialect, spec: MartSpec, row?: string): string =>
  [...new Set([...spec.key, spec.ts])]
    .map((c) => `${row ? `${row}.` : ''}${d.quote(c)} is not null`)
    .join(' and ');

/**
 * `create temporary table … as` one row per key of `from`, the newest by the version order, then
 * `_batch_id` (SPEC §2). `alias` qualifies the columns where `from` joins tables holding them all.
 */
const newestPerKey = (
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

/**
 * Stage: the batches' rows, deduplicated to one winner per key by the version order (SPEC §2),
 * without NULL keys or future timestamps, then kept only where they are newer than what the mart
 * or any hist table already holds for the key (a mart never goes back to an older version).
 *
 * The mart is read once, for the rows sharing a key with the batch (`ot_match_*`: in a 15-minute
 * cycle only the overlap re-read and genuine updates, a few thousand). Staging, and later the
 * delete of the replaced rows, join that small table instead of the whole mart. PostgreSQL deletes
 * the losing rows from the delta, which becomes the stage, and the match keeps only the mart rows
 * the stage replaces.
 *
 * Where the dialect stages by left join (`stageByLeftJoin`: DuckDB), the stage is a new table that
 * flags `ot_replaces` on a row whose key the mart holds, and the match keeps only the newest mart
 * row per key, so the join cannot repeat a batch row. The condition is `NOT EXISTS`'s own, negated
 * with `coalesce(…, false)` so that an unknown (a NULL) keeps the row as `NOT EXISTS` does. One
 * difference: a key the mart holds twice is compared with its newest row only, so a batch row equal
 * to an older duplicate replaces both rather than leaving both (the unique test reports the pair).
 */
export const planStage = (d: Dialect, spec: MartSpec, f: MartFacts): Statement[] => {
  const raw = d.table(f.schemas.raw, rawTableName(spec.source));
  const mart = d.table(f.schemas.mart, spec.table);
  const e = exceptionsTable(f.schemas);
  const ts = d.quote(spec.ts);
  const cols = names(d, f.columns);
  const limit = f.now + FUTURE_TOLERANCE_SECONDS;
  const delta = deltaTable(spec);
  const match = matchTable(spec);
  const stage = stageTable(spec);
  const leftJoin = d.capabilities.stageByLeftJoin;
  // Never NULL in a mart row (staging drops rows with a NULL key): NULL after the left join means no match.
  const first = d.quote(spec.key[0] ?? 'order_id');
  // A hist table's row for the key that the batch row is not newer than: the row stays out.
  const histHolds = (h: string): string =>
    `${keyMatch(d, spec, 'h', 'x')}${periodFilter(d, spec, h, 'x')} and not ${newer(d, spec.version, 'x', 'h')}`;
  // Likewise the mart's row: newer by version and load, or as new by version with the same values.
  const martHolds = `(not ${newer(d, [...spec.version, '_batch_id'], 'x', 'm')}
       or (not ${newer(d, spec.version, 'x', 'm')} and ${sameValues(d, payload(spec, f.columns), 'x', 'm')}))`;
  // Where the key holds the event time (mart_uts), a match is no older than the batch's oldest row:
  // said outright, the mart's side of the join is its newest rows (its key index leads with the time).
  const sinceDelta = spec.key.includes(spec.ts) ? ` and m.${ts} >= (select min(${ts}) from ${delta})` : '';
  // Only the batches that hold a due row are read, and the ledger by an uncorrelated IN: as a
  // correlated EXISTS DuckDB grouped every (id, ts) of raw first, 3 s at SF 1 (PostgreSQL 1.5 s
  // scanning raw whole), in every cycle where a held row came due. The batch ids are literals, as
  // the period bounds are: integers read from the batches table, for which PostgreSQL probes raw's
  // batch index, where it planned the same look-up as a subquery by scanning raw whole.
  const heldIn =
    f.futureBatches === 'all'
      ? ''
      : `r._batch_id in (${f.futureBatches.map((b) => Math.trunc(b)).join(', ')}) and `;
  const due =
    f.futureBatches === 'all' || f.futureBatches.length > 0
      ? `
    union all
    -- rows held back as FUTURE_TIMESTAMP that are no longer in the future (SPEC §5)
    select ${names(d, f.columns, 'r')} from ${raw} r
     where ${heldIn}${complete(d, spec, 'r')} and r.${ts} <= $3
       and (r.id, r.${ts}) in (select e.source_id, e.event_time from ${d.table(e.schema, e.name)} e
                    where e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.source_table = '${spec.source}')`
      : '';
  return [
    stmt(`drop table if exists ${delta}`),
    stmt(
      newestPerKey(
        d,
        spec,
        delta,
        f.columns,
        `(
    select ${cols} from ${raw}
     where _batch_id > $1 and _batch_id <= $2 and ${complete(d, spec)} and ${ts} <= $3${due}
  ) candidates`,
      ),
      [f.fromBatch, f.toBatch, limit],
    ),
    ...analyzeIfFilled(d, delta),
    stmt(`drop table if exists ${match}`),
    stmt(
      leftJoin
        ? newestPerKey(
            d,
            spec,
            match,
            f.columns,
            `${delta} x join ${mart} m on ${keyMatch(d, spec, 'm', 'x')}`,
            'm',
          )
        : `create temporary table ${match} as
select ${names(d, f.columns, 'm')} from ${delta} x join ${mart} m on ${keyMatch(d, spec, 'm', 'x')}${sinceDelta}`,
    ),
    ...analyzeIfFilled(d, match),
    stmt(`drop table if exists ${stage}`),
    ...(leftJoin
      ? [
          stmt(`create temporary table ${stage} as
select ${names(d, f.columns, 'x')}, m.${first} is not null as ot_replaces
  from ${delta} x left join ${match} m on ${keyMatch(d, spec, 'm', 'x')}
 where (m.${first} is null or not coalesce(${martHolds}, false))${f.histTables
   .map((h) => `\n   and not exists (select 1 from ${d.table(f.schemas.mart, h)} h where ${histHolds(h)})`)
   .join('')}`),
          ...analyzeIfFilled(d, stage),
        ]
      : [
          // The delta, its losing rows deleted, becomes the stage; the match keeps the mart rows
          // the stage replaces. Rewriting millions of rows into a second table cost more than
          // both deletes (each a scan of the delta, and a key look-up per row lost).
          ...[
            `${match} m where ${keyMatch(d, spec, 'm', 'x')}\n   and ${martHolds}`,
            ...f.histTables.map((h) => `${d.table(f.schemas.mart, h)} h where ${histHolds(h)}`),
          ].map((holds) =>
            stmt(`with lost as (
  delete from ${delta} as x using ${holds}
  returning ${quoted(d, spec.key, 'x')})
delete from ${match} where (${quoted(d, spec.key)}) in (select ${quoted(d, spec.key)} from lost)`),
          ),
          stmt(`alter table ${delta} rename to ${stage}`),
        ]),
  ];
};

/** SPEC §5: one open exception per bad source row, never duplicated by re-extraction. */
export const planBadRows = (d: Dialect, spec: MartSpec, f: MartFacts): Statement[] => {
  const raw = d.table(f.schemas.raw, rawTableName(spec.source));
  const e = exceptionsTable(f.schemas);
  const ledger = d.table(e.schema, e.name);
  const ts = d.quote(spec.ts);
  const extra = exceptionKey(spec)
    .map((k) => `, max(${d.quote(k)}) as ${d.quote(k)}`)
    .join('');
  const limit = f.now + FUTURE_TOLERANCE_SECONDS;
  const bad = (type: string, where: string, notes: string): Statement =>
    stmt(
      `insert into ${ledger} (${exceptionColumns})
select ${type === 'NULL_ORDER_ID' ? 'null' : 'b.order_id'}, '${type}', '${spec.source}', b.id, ${exceptionIdentity(d, spec, 'b')}, b.ts, current_timestamp, ${notes}
from (select id, max(order_id) as order_id, max(${ts}) as ts${extra} from ${raw}
       where _batch_id > $1 and _batch_id <= $2 and ${where} group by id) b
where not exists (select 1 from ${ledger} e
                   where e.exception_type = '${type}' and e.source_table = '${spec.source}' and e.source_id = b.id
                     and ${type === 'FUTURE_TIMESTAMP' ? 'e.event_time = b.ts' : '(e.resolved_at is null or e.event_time = b.ts)'})`,
      type === 'FUTURE_TIMESTAMP' ? [f.fromBatch, f.toBatch, limit] : [f.fromBatch, f.toBatch],
      `exceptions:${type}`,
    );
  return [
    bad('NULL_ORDER_ID', 'order_id is null', `'order_id is NULL in the source row'`),
    bad(
      'NULL_KEY',
      `order_id is not null and not (${complete(d, spec)})`,
      `'a key or timestamp column (${[...new Set([...spec.key, spec.ts])].join(', ')}) is NULL in the source row'`,
    ),
    bad(
      'FUTURE_TIMESTAMP',
      `order_id is not null and ${ts} > $3`,
      `'${spec.ts} more than 1 day after the run clock; folded in once it is no longer in the future'`,
    ),
    stmt(
      `update ${ledger} set resolved_at = current_timestamp
 where exception_type = 'FUTURE_TIMESTAMP' and resolved_at is null and source_table = '${spec.source}' and event_time <= $1`,
      [limit],
      'resolved:FUTURE_TIMESTAMP',
    ),
  ];
};

/**
 * Replace the staged keys: out of the mart and out of every hist table (reactivation), then in.
 * `stageArchive` (`archiveStageFirst`) moves the staged rows that are aged already to their hist
 * tables in between, so they never enter the mart.
 */
export const planApply = (
  d: Dialect,
  spec: MartSpec,
  f: MartFacts,
  stageArchive: readonly Statement[] = [],
): Statement[] => {
  const mart = d.table(f.schemas.mart, spec.table);
  const stage = stageTable(spec);
  const cols = names(d, f.columns);
  // The mart's first apply (no consumption mark yet: the initial load) builds its indexes after
  // its insert; init creates none. Kept up row by row they cost PostgreSQL's insert of the SF 1
  // history more than building them does. `create index` blocks writers only, and this
  // transaction is the mart's one writer; readers go on.
  const indexes =
    f.fromBatch === 0
      ? martIndexes(spec).flatMap(({ columns, unique }) => {
          const sql = d.createIndex(f.schemas.mart, spec.table, columns, { unique });
          return sql ? [stmt(sql)] : [];
        })
      : [];
  return [
    stmt(
      // An uncorrelated IN: DuckDB plans the correlated EXISTS with this filter as a semi-join
      // that first groups every key of the mart.
      `delete from ${mart} as t where (${quoted(d, spec.key, 't')}) in (${
        d.capabilities.stageByLeftJoin
          ? `select ${quoted(d, spec.key)} from ${stage} where ot_replaces`
          : `select ${quoted(d, spec.key)} from ${matchTable(spec)}`
      })`,
      [],
      'replaced',
    ),
    ...f.histTables.map((h) =>
      stmt(
        `delete from ${d.table(f.schemas.mart, h)} as t where exists (select 1 from ${stage} s where ${keyMatch(d, spec, 's', 't')}${periodFilter(d, spec, h, 's')})`,
        [],
        'reactivated',
      ),
    ),
    // A gap exception held the version this batch replaced: it no longer describes any row. Before
    // the stage's own archive, which takes the aged rows it superseded out of the stage.
    stmt(
      `update ${d.table(exceptionsTable(f.schemas).schema, exceptionsTable(f.schemas).name)} as e set resolved_at = current_timestamp
 where e.exception_type = '${spec.gapException}' and e.resolved_at is null and e.source_table = '${spec.source}'
   and exists (select 1 from ${stage} s where ${['order_id', ...exceptionKey(spec)].map((k) => `s.${d.quote(k)} = e.${d.quote(k)}`).join(' and ')})`,
      [],
      'resolved:superseded',
    ),
    ...stageArchive,
    stmt(`insert into ${mart} (${cols}) select ${cols} from ${stage}${timeOrder(d, spec)}`, [], 'inserted'),
    // A backlog's rows sit in batch and time ranges the mart's statistics have never seen: without
    // them the data tests plan their look-up of the rows written as a few index probes (W2 at SF 1:
    // 6.5 M probes, 27 s, against 1.6 s after a 0.5 s ANALYZE). Autovacuum would get there, later.
    // Straight after the insert: its `onlyFrom` reads the insert's row count.
    ...analyzeIfFilled(d, mart),
    ...indexes,
  ];
};

/**
 * mart_ecs only (SPEC §4 reactivation): orders mart_uti took in since mart_ecs last ran, present
 * in mart_uti but whose ecs row sits in a hist table, bring that row back into mart_ecs.
 */
export const planRevive = (d: Dialect, spec: MartSpec, f: MartFacts): Statement[] => {
  if (spec.retention !== 'order' || f.histTables.length === 0) return [];
  const uti = martSpec('mart_uti');
  const mart = d.table(f.schemas.mart, spec.table);
  const utiMart = d.table(f.schemas.mart, uti.table);
  const utiRaw = d.table(f.schemas.raw, rawTableName(uti.source));
  const cols = names(d, f.columns);
  const revive = `ot_revive_${spec.name}`;
  // Driven from the batch's orders (few) into the hist tables by their order_id index, never a
  // scan of the ever-growing hist tables.
  const touched = `h.order_id in (
    select r.order_id from ${utiRaw} r
     where r._batch_id > $1 and r._batch_id <= $2 and r.order_id is not null
       and exists (select 1 from ${utiMart} u where u.order_id = r.order_id)
       and not exists (select 1 from ${mart} m where m.order_id = r.order_id))`;
  const union = f.histTables
    .map((h) => `select ${names(d, f.columns, 'h')} from ${d.table(f.schemas.mart, h)} h where ${touched}`)
    .join('\nunion all\n');
  const range = [f.fromUtiBatch ?? 0, f.toUtiBatch ?? 0];
  return [
    stmt(`drop table if exists ${revive}`),
    stmt(`create temporary table ${revive} as\n${union}`, range),
    stmt(`insert into ${mart} (${cols}) select ${cols} from ${revive}${timeOrder(d, spec)}`, [], 'revived'),
    ...f.histTables.map((h) =>
      stmt(
        `delete from ${d.table(f.schemas.mart, h)} as t where exists (select 1 from ${revive} v where v.order_id = t.order_id)`,
      ),
    ),
  ];
};

/** The rows of the mart (alias `m`) that have aged out in `[from, to)` and are not held by an exception. */
const aged = (d: Dialect, spec: MartSpec, s: Schemas, m: string): string => {
  const ts = `${m}.${d.quote(spec.ts)}`;
  const held = openException(d, s, spec, spec.gapException, m);
  const order =
    spec.retention === 'order'
      ? `\n   and not exists (select 1 from ${d.table(s.mart, martSpec('mart_uti').table)} u where u.order_id = ${m}.order_id)`
      : '';
  return `${ts} >= $1 and ${ts} < $2${order}\n   and not ${held}`;
};

/**
 * Archive (SPEC §4): per period holding aged rows, create its hist table on first need, replace
 * any copy of the rows there (idempotent on retry), move them; a frozen period instead opens one
 * gap exception per row, which keeps the row in the mart. `from` is the mart, or the stage for the
 * batch's rows that are aged already (`archiveStageFirst`; frozen periods are left out there).
 */
export const planArchive = (
  d: Dialect,
  spec: MartSpec,
  f: ArchiveFacts,
  from: string = d.table(f.schemas.mart, spec.table),
): Statement[] => {
  const cols = names(d, f.columns);
  const e = exceptionsTable(f.schemas);
  const statements: Statement[] = [];
  for (const period of f.periods) {
    const bounds = [period.start, Math.min(period.end, f.cutoff)];
    if (f.frozen.has(period.name)) {
      statements.push(
        stmt(
          `insert into ${d.table(e.schema, e.name)} (${exceptionColumns})
select m.order_id, '${spec.gapException}', '${spec.source}', m.id, ${exceptionIdentity(d, spec, 'm')}, m.${d.quote(spec.ts)}, current_timestamp,
       'aged out but period ${period.name} is frozen by configuration; kept in ${spec.table}'
from ${from} m
where ${aged(d, spec, f.schemas, 'm')}`,
          bounds,
          `gaps:${period.name}`,
        ),
      );
      continue;
    }
    const histName = histTableName(spec, period.name);
    const hist = d.table(f.schemas.mart, histName);
    // Only on first need: `create index if not exists` on an existing table still takes a lock
    // that waits for a running VACUUM on PostgreSQL.
    if (!f.existing.includes(histName)) {
      statements.push(stmt(createTable(d, { schema: f.schemas.mart, name: histName, columns: f.columns })));
      for (const index of histIndexes(spec)) {
        const sql = d.createIndex(f.schemas.mart, histName, index);
        if (sql) statements.push(stmt(sql));
      }
    }
    statements.push(
      stmt(
        `delete from ${hist} as t where exists (select 1 from ${from} m where ${keyMatch(d, spec, 'm', 't')} and ${aged(d, spec, f.schemas, 'm')})`,
        bounds,
      ),
      stmt(
        `insert into ${hist} (${cols}) select ${names(d, f.columns, 'm')} from ${from} m where ${aged(d, spec, f.schemas, 'm')}${timeOrder(d, spec, 'm')}`,
        bounds,
        `archived:${period.name}`,
      ),
      stmt(`delete from ${from} as m where ${aged(d, spec, f.schemas, 'm')}`, bounds),
    );
  }
  return statements;
};

/**
 * The validated raw batches that hold this table's held-back future rows now due (`MartFacts.
 * futureBatches`), one row `b` each: a batch read by id or by the row's own timestamp holds the
 * rows whose id or timestamp lies in its window; one read by any other cursor column (`exact`
 * false) may hold any. Cursor names compare without case, as the source's column names do.
 */
export const planFutureBatches = (
  d: Dialect,
  spec: MartSpec,
  f: Pick<MartFacts, 'schemas' | 'now'>,
): Statement => {
  const e = exceptionsTable(f.schemas);
  const batches = metaTables(f.schemas).batches;
  const cursor = `lower(b.cursor_column)`;
  const value = `case ${cursor} when 'id' then e.source_id else e.event_time end`;
  return stmt(
    `select distinct b.batch_id as b, ${cursor} in ('id', '${spec.ts}') as exact
from ${d.table(batches.schema, batches.name)} b
  join ${d.table(e.schema, e.name)} e on e.source_table = b.table_name
where b.table_name = '${spec.source}' and b.state = 'validated'
  and e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.event_time <= $1
  and (${cursor} not in ('id', '${spec.ts}')
       or (${value} <= b.window_to and (b.window_from is null or ${value} > b.window_from)))
order by b.batch_id`,
    [f.now + FUTURE_TOLERANCE_SECONDS],
  );
};

/** The oldest aged row's timestamp in the mart (or `from`): which periods the archive has to visit. */
export const planOldestAged = (
  d: Dialect,
  spec: MartSpec,
  s: Schemas,
  cutoff: number,
  from: string = d.table(s.mart, spec.table),
): Statement =>
  stmt(
    `select min(m.${d.quote(spec.ts)}) as m from ${from} m\nwhere ${aged(d, spec, s, 'm')}`,
    // The lower bound is the smallest INT: source timestamps are INT epoch seconds (SPEC §2).
    [-2_147_483_648, cutoff],
  );

/**
 * Whether this mart's apply archives the stage's aged rows first (`archiveStageFirst`): only a
 * time-retention mart knows the cutoff its apply will leave before applying (`planApplyMaxTs`).
 */
export const archivesStageFirst = (d: Dialect, spec: MartSpec): boolean =>
  d.capabilities.archiveStageFirst && spec.retention === 'time';

/**
 * The newest timestamp of the mart and its stage together: the retention cutoff this apply will
 * leave, for a time-retention mart (a replaced row's new version is never older).
 */
export const planApplyMaxTs = (d: Dialect, spec: MartSpec, s: Schemas): Statement => {
  const ts = d.quote(spec.ts);
  return stmt(
    `select max(m) as m from (select max(${ts}) as m from ${d.table(s.mart, spec.table)} union all select max(${ts}) as m from ${stageTable(spec)}) x`,
  );
};

/** Hist look-ups are by order (reactivation) and, for scans, by the whole key. */
export const histIndexes = (spec: MartSpec): readonly (readonly string[])[] => [spec.key];

/**
 * Indexes of the mart itself: its key in storage order (unique), its timestamp for the archive's
 * range scans unless the key already leads with it, and its load batch (the data tests read the
 * rows a run wrote).
 */
export const martIndexes = (spec: MartSpec): readonly { columns: readonly string[]; unique: boolean }[] => [
  { columns: storageKey(spec), unique: true },
  ...(spec.key.includes(spec.ts) ? [] : [{ columns: [spec.ts], unique: false }]),
  { columns: ['_batch_id'], unique: false },
];

/** Moves the mart's consumption mark (in the same transaction as everything above). */
export const planMark = (
  d: Dialect,
  s: Schemas,
  martName: string,
  source: string,
  batch: number,
): Statement[] => {
  const t = d.table(s.meta, 'mart_state');
  return [
    stmt(`delete from ${t} where mart = $1 and source_table = $2`, [martName, source]),
    stmt(
      `insert into ${t} (mart, source_table, batch_id, updated_at) values ($1, $2, $3, current_timestamp)`,
      [martName, source, batch],
    ),
  ];
};
