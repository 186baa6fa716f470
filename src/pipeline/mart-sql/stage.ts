import type { Dialect } from '../../engines/warehouse/warehouse.js';
import type { MartSpec } from '../marts.js';
import { exceptionsTable, metaTables } from '../meta.js';
import { FUTURE_TOLERANCE_SECONDS } from '../periods.js';
import { stmt, type Statement } from '../statement.js';
import { heldTableName, rawTableName } from '../tables.js';
import type { MartFacts } from './facts.js';
import {
  analyzeIfFilled,
  byRowId,
  complete,
  histTablesFor,
  inBatchRange,
  deltaTable,
  keyMatch,
  matchLocator,
  matchTable,
  names,
  newer,
  newestPerKey,
  payload,
  periodFilter,
  quoted,
  sameValues,
  stageTable,
} from './fragments.js';

/**
 * Stage: the batches' rows, deduplicated to one winner per key by the version order (SPEC §2),
 * without NULL keys, future timestamps, timestamps before the floor or rows holding a quarantined
 * value (SPEC §5), then kept only where they are newer than what the mart
 * or any hist table already holds for the key (a mart never goes back to an older version).
 *
 * The mart is read once, for the rows sharing a key with the batch (`ot_match_*`: in a 15-minute
 * cycle only the overlap re-read and genuine updates, a few thousand). Staging, and later the
 * delete of the replaced rows, join that small table instead of the whole mart. The match records
 * each pair's row ids (`rowId`) and whether the mart's row holds; the losing rows are deleted from
 * the delta, which becomes the stage (no second copy of a backlog's millions of rows), and the
 * match keeps only the mart rows the stage replaces.
 *
 * Where the dialect stages by left join (`stageByLeftJoin`: Redshift), the stage is a new table that
 * flags `ot_replaces` on a row whose key the mart holds, and the match keeps only the newest mart
 * row per key, so the join cannot repeat a batch row. The condition is `NOT EXISTS`'s own, negated
 * with `coalesce(…, false)` so that an unknown (a NULL) keeps the row as `NOT EXISTS` does. One
 * difference: a key the mart holds twice is compared with its newest row only, so a batch row equal
 * to an older duplicate replaces both rather than leaving both (the unique test reports the pair).
 */
export const planStage = (
  d: Dialect,
  spec: MartSpec,
  f: MartFacts,
  part: 'all' | 'delta' | 'rest' = 'all',
): Statement[] => {
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
  const locator = matchLocator(d);
  // Never NULL in a mart row (staging drops rows with a NULL key): NULL after the left join means no match.
  const first = d.quote(spec.key[0] ?? 'order_id');
  // A hist table's row for the key that the batch row is not newer than: the row stays out.
  const histHolds = (h: string): string =>
    `${keyMatch(d, spec, 'h', 'x')}${periodFilter(d, spec, h, 'x')}${inBatchRange(d, spec, f, 'h')} and not ${newer(d, spec.version, 'x', 'h')}`;
  const hists = histTablesFor(spec, f);
  // Deletes the delta's rows that `holds` keeps out, and their keys from the match: in one statement
  // where a DELETE can sit in a `with`, else the keys first, while the delta still holds them.
  const lostTo = (holds: string): Statement[] =>
    d.capabilities.dmlInWith
      ? [
          stmt(`with lost as (
  delete from ${delta} as x using ${holds}
  returning ${quoted(d, spec.key, 'x')})
delete from ${match} where (${quoted(d, spec.key)}) in (select ${quoted(d, spec.key)} from lost)`),
        ]
      : [
          stmt(
            `delete from ${match} where (${quoted(d, spec.key)}) in (select ${quoted(d, spec.key, 'x')} from ${delta} x, ${holds})`,
          ),
          stmt(`delete from ${delta} as x using ${holds}`),
        ];
  // Likewise the mart's row: newer by version and load, or as new by version with the same values.
  const martHolds = `(not ${newer(d, [...spec.version, '_batch_id'], 'x', 'm')}
       or (not ${newer(d, spec.version, 'x', 'm')} and ${sameValues(d, payload(spec, f.columns), 'x', 'm')}))`;
  // Where the key holds the event time (mart_uts), a match is no older than the batch's oldest row:
  // said outright, the mart's side of the join is its newest rows (its key index leads with the time).
  const sinceDelta = spec.key.includes(spec.ts) ? ` and m.${ts} >= (select min(${ts}) from ${delta})` : '';
  // Only the batches that hold a due row are read, and the ledger by an uncorrelated IN: as a
  // correlated EXISTS DuckDB grouped every (id, ts) of raw first (PostgreSQL scanned raw whole),
  // in every cycle where a held row came due. The batch ids are literals, as
  // the period bounds are: integers read from the batches table, for which PostgreSQL probes raw's
  // batch index, where it planned the same look-up as a subquery by scanning raw whole.
  const heldIn =
    f.futureBatches === 'all'
      ? ''
      : `r._batch_id in (${f.futureBatches.map((b) => Math.trunc(b)).join(', ')}) and `;
  // Rows holding a value the load stored as NULL, while their BAD_VALUE is open (SPEC §5); a NULL
  // id is one the ledger's source_id could not hold.
  const quarantined = f.badValues
    ? `
       and r.id is not null and not exists (select 1 from ${d.table(e.schema, e.name)} e
                    where e.exception_type = 'BAD_VALUE' and e.resolved_at is null and e.source_table = '${spec.source}'
                      and e.source_id = r.id and e.event_time = r.${ts})`
    : '';
  // An IN over two columns where the engine has one (Redshift's IN subquery takes one column).
  const held = `e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.source_table = '${spec.source}'`;
  const heldRow = d.capabilities.rowValueIn
    ? `(r.id, r.${ts}) in (select e.source_id, e.event_time from ${d.table(e.schema, e.name)} e
                    where ${held})`
    : `exists (select 1 from ${d.table(e.schema, e.name)} e
                    where e.source_id = r.id and e.event_time = r.${ts} and ${held})`;
  // Rows held back as FUTURE_TIMESTAMP that are no longer in the future (SPEC §5): from their copy,
  // and from raw those the copy lacks (held before it existed, or before a schema change).
  const dueFrom = (why: string, table: string, where: string): string => `
    union all
    -- ${why}
    select ${names(d, f.columns, 'r')} from ${table} r
     where ${where}r.${ts} <= $3 and r.${ts} >= $4
       and ${heldRow}${quarantined}`;
  const due =
    (f.held === 'due'
      ? dueFrom(
          'held rows now due, from their copy beside raw',
          d.table(f.schemas.raw, heldTableName(spec.source)),
          '',
        )
      : '') +
    (f.futureBatches === 'all' || f.futureBatches.length > 0
      ? dueFrom(
          'held rows now due that their copy lacks, from the raw batches that landed them',
          raw,
          `${heldIn}${complete(d, spec, 'r')} and `,
        )
      : '');
  const deltaPart = [
    stmt(`drop table if exists ${delta}`),
    stmt(
      newestPerKey(
        d,
        spec,
        delta,
        f.columns,
        `(
    select ${cols} from ${raw}${f.badValues ? ' r' : ''}
     where _batch_id > $1 and _batch_id <= $2 and ${complete(d, spec)} and ${ts} <= $3 and ${ts} >= $4${quarantined}${due}
  ) candidates`,
      ),
      [f.fromBatch, f.toBatch, limit, f.floor],
    ),
    ...analyzeIfFilled(d, delta),
  ];
  // Nothing to match in an empty mart: said outright, as no engine's plan knows it. DuckDB built
  // its hash table over the whole initial load's delta to probe the empty mart with it.
  const joined = `${keyMatch(d, spec, 'm', 'x')}${f.martEmpty ? ' and false' : ''}`;
  const rest = [
    stmt(`drop table if exists ${match}`),
    stmt(
      leftJoin
        ? newestPerKey(
            d,
            spec,
            match,
            f.columns,
            `${delta} x join ${mart} m on ${joined}${inBatchRange(d, spec, f, 'm')}`,
            'm',
          )
        : `create temporary table ${match} as
select ${names(d, f.columns, 'm')}${locator ? `, x.${locator} as ot_row, m.${locator} as ot_mart_row, ${martHolds} as ot_holds` : ''} from ${delta} x join ${mart} m on ${joined}${sinceDelta}`,
    ),
    ...analyzeIfFilled(d, match),
    stmt(`drop table if exists ${stage}`),
    ...(leftJoin
      ? [
          stmt(`create temporary table ${stage} as
select ${names(d, f.columns, 'x')}, m.${first} is not null as ot_replaces
  from ${delta} x left join ${match} m on ${keyMatch(d, spec, 'm', 'x')}
 where (m.${first} is null or not coalesce(${martHolds}, false))${hists
   .map((h) => `\n   and not exists (select 1 from ${d.table(f.schemas.mart, h)} h where ${histHolds(h)})`)
   .join('')}`),
          ...analyzeIfFilled(d, stage),
        ]
      : [
          // The delta, its losing rows deleted, becomes the stage; the match keeps the mart rows
          // the stage replaces. Rewriting millions of rows into a second table cost more than
          // both deletes (each a scan of the delta, and a key look-up per row lost), on
          // PostgreSQL and on DuckDB alike.
          // Where rows have a locator, the match has judged each pair as it joined them: the
          // losers are deleted by locator, not found again by a scan of the whole delta.
          ...(locator
            ? [
                stmt(
                  `delete from ${delta} where ${byRowId(locator, `select ot_row from ${match} where ot_holds`)}`,
                ),
                stmt(
                  `delete from ${match} where (${quoted(d, spec.key)}) in (select ${quoted(d, spec.key)} from ${match} where ot_holds)`,
                ),
              ]
            : lostTo(`${match} m where ${keyMatch(d, spec, 'm', 'x')}\n   and ${martHolds}`)),
          ...hists.flatMap((h) => lostTo(`${d.table(f.schemas.mart, h)} h where ${histHolds(h)}`)),
          stmt(`alter table ${delta} rename to ${stage}`),
        ]),
  ];
  return part === 'delta' ? deltaPart : part === 'rest' ? rest : [...deltaPart, ...rest];
};

/**
 * The validated raw batches that hold this table's held-back future rows now due (`MartFacts.
 * futureBatches`), one row `b` each: a batch read by id or by the row's own timestamp holds the
 * rows whose id or timestamp lies in its window; one read by any other cursor column (`exact`
 * false) may hold any. Cursor names compare without case, as the source's column names do. With
 * `inHeld`, the rows the held table has a copy of are left to it.
 */
export const planFutureBatches = (
  d: Dialect,
  spec: MartSpec,
  f: Pick<MartFacts, 'schemas' | 'now'>,
  inHeld = false,
): Statement => {
  const e = exceptionsTable(f.schemas);
  const batches = metaTables(f.schemas).batches;
  const cursor = `lower(b.cursor_column)`;
  const value = `case ${cursor} when 'id' then e.source_id else e.event_time end`;
  const ts = d.quote(spec.ts);
  const copied = inHeld
    ? `
  and not exists (select 1 from ${d.table(f.schemas.raw, heldTableName(spec.source))} h
                   where h.id = e.source_id and h.${ts} = e.event_time)`
    : '';
  return stmt(
    `select distinct b.batch_id as b, ${cursor} in ('id', '${spec.ts}') as exact
from ${d.table(batches.schema, batches.name)} b
  join ${d.table(e.schema, e.name)} e on e.source_table = b.table_name
where b.table_name = '${spec.source}' and b.state = 'validated'
  and e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.event_time <= $1
  and (${cursor} not in ('id', '${spec.ts}')
       or (${value} <= b.window_to and (b.window_from is null or ${value} > b.window_from)))${copied}
order by b.batch_id`,
    [f.now + FUTURE_TOLERANCE_SECONDS],
  );
};

/** One row when the held table (`heldTableName`) holds a row now due (`MartFacts.held`), else none. */
export const planHeldDue = (d: Dialect, spec: MartSpec, f: Pick<MartFacts, 'schemas' | 'now'>): Statement =>
  stmt(
    `select 1 as b from ${d.table(f.schemas.raw, heldTableName(spec.source))}
where ${d.quote(spec.ts)} <= $1
limit 1`,
    [f.now + FUTURE_TOLERANCE_SECONDS],
  );

/** One row when the mart holds any row, else none (`MartFacts.martEmpty`). */
export const planMartHoldsRow = (d: Dialect, spec: MartSpec, schemas: MartFacts['schemas']): Statement =>
  stmt(`select 1 as b from ${d.table(schemas.mart, spec.table)}\nlimit 1`);

/** One row when the mart's source table has an open BAD_VALUE (`MartFacts.badValues`), else none. */
export const planHasOpenBadValues = (
  d: Dialect,
  spec: MartSpec,
  schemas: MartFacts['schemas'],
): Statement => {
  const e = exceptionsTable(schemas);
  return stmt(
    `select 1 as b from ${d.table(e.schema, e.name)}
where exception_type = 'BAD_VALUE' and resolved_at is null and source_table = $1
limit 1`,
    [spec.source],
  );
};
