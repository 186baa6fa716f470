/**
 * SPEC §6 data-quality checks: the seed's three, each a set of failing orders materialised once,
 * recorded in `dq_results`, and mirrored in the exceptions ledger (one open `DQ_*` exception per
 * failing order, resolved once the order no longer fails). Pure planning: statements only.
 */
import type { Schemas } from '../../config/settings.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { analyzeIfFilled } from '../mart-sql/fragments.js';
import { mart, type MartName } from '../marts.js';
import { exceptionsTable, metaTables } from '../meta.js';
import { FUTURE_TOLERANCE_SECONDS } from '../periods.js';
import { stmt, type Statement } from '../statement.js';

export type DqCheckName = 'dq_uti_uts_alignment' | 'dq_missing_spath' | 'dq_reactivated_missing_ecs';

/** One check as data: what it reports, and what its ledger rows say. */
export interface DqCheck {
  readonly name: DqCheckName;
  /** The mart whose rows name the failing orders: its table is the exceptions' `source_table`. */
  readonly subject: MartName;
  /** What is wrong with a failing order (the opened exception's notes, before the run). */
  readonly problem: string;
  /** What a resolution found when the order is still in mart_uti (`cleared: … found by monitor run N`). */
  readonly found: string;
  /** Why an order that left mart_uti no longer fails (the resolution's note then). */
  readonly gone: (runId: number) => string;
}

/** How far back a scan counts as recent for the alignment check: the 24 h before the clock. */
export const DQ_RECENT_SECONDS = 86_400;

/** Sampled failing orders per check (`dq_results.sample`), smallest first. */
export const DQ_SAMPLE_SIZE = 10;

const uti = mart('mart_uti');
const ecs = mart('mart_ecs');
const uts = mart('mart_uts');

/** The seed's checks, in the order they are reported. */
export const dqChecks: readonly DqCheck[] = [
  {
    name: 'dq_uti_uts_alignment',
    subject: 'mart_uts',
    problem: `scan events in ${uts.table} within 24 h of the clock but no ${uti.table} row`,
    found: `${uti.table} row`,
    gone: (runId) =>
      `cleared: no scan event in ${uts.table} within 24 h of the clock of monitor run ${runId}`,
  },
  {
    name: 'dq_missing_spath',
    subject: 'mart_uti',
    problem: `in ${uti.table} but no scan event in ${uts.table} or any hist_${uts.source} table`,
    found: 'scan events',
    gone: (runId) => `cleared: order no longer in ${uti.table} at monitor run ${runId}`,
  },
  {
    name: 'dq_reactivated_missing_ecs',
    subject: 'mart_uti',
    problem: `in ${uti.table} but no ${ecs.table} row`,
    found: `${ecs.table} row`,
    gone: (runId) => `cleared: order no longer in ${uti.table} at monitor run ${runId}`,
  },
];

export const dqCheck = (name: DqCheckName): DqCheck => dqChecks.find((c) => c.name === name) as DqCheck;

/** The ledger's exception type of a check: its name upper-cased (`DQ_MISSING_SPATH`). */
export const dqExceptionType = (check: DqCheck): string => check.name.toUpperCase();

/** The work table holding a check's failing orders for the length of its transaction. */
export const dqWorkTable = (check: DqCheck): string => `ot_${check.name}`;

/** What a check's plan is made from: the run's facts, read before it starts. */
export interface DqFacts {
  readonly schemas: Schemas;
  readonly runId: number;
  /** The run's clock, epoch seconds. */
  readonly now: number;
  /** The hist tables of mart_uts that exist now (`listHistTables`). */
  readonly utsHistTables: readonly string[];
}

/**
 * The failing orders as `(order_id, event_time)`, one row per order; `event_time` is the newest
 * event time of the rows that make it fail (a scan's `pathtime`, the tracking row's `update_time`).
 * Every anti-join is `NOT EXISTS` (SPEC §4: NULL-safe), and an order id that is NULL never fails.
 */
const failingOrders = (d: Dialect, check: DqCheck, f: DqFacts): Statement => {
  const q = d.quote;
  const table = (name: MartName) => d.table(f.schemas.mart, mart(name).table);
  const absent = (from: string, alias: string, outer: string) =>
    `not exists (select 1 from ${from} ${alias} where ${alias}.${q('order_id')} = ${outer}.${q('order_id')})`;
  switch (check.name) {
    case 'dq_uti_uts_alignment':
      // Recent: (now − 24 h, now + 1 day], so a scan the future tolerance let in counts too.
      return stmt(
        `select s.${q('order_id')}, max(s.${q(uts.ts)}) as ${q('event_time')}
  from ${table('mart_uts')} s
 where s.${q(uts.ts)} > $1 and s.${q(uts.ts)} <= $2 and s.${q('order_id')} is not null
   and ${absent(table('mart_uti'), 'u', 's')}
 group by s.${q('order_id')}`,
        [f.now - DQ_RECENT_SECONDS, f.now + FUTURE_TOLERANCE_SECONDS],
      );
    case 'dq_missing_spath': {
      const homes = [table('mart_uts'), ...f.utsHistTables.map((h) => d.table(f.schemas.mart, h))];
      return stmt(
        `select u.${q('order_id')}, max(u.${q(uti.ts)}) as ${q('event_time')}
  from ${table('mart_uti')} u
 where u.${q('order_id')} is not null
${homes.map((h) => `   and ${absent(h, 's', 'u')}`).join('\n')}
 group by u.${q('order_id')}`,
      );
    }
    case 'dq_reactivated_missing_ecs':
      return stmt(
        `select u.${q('order_id')}, max(u.${q(uti.ts)}) as ${q('event_time')}
  from ${table('mart_uti')} u
 where u.${q('order_id')} is not null
   and ${absent(table('mart_ecs'), 'e', 'u')}
 group by u.${q('order_id')}`,
      );
  }
};

/**
 * One check, in the order its transaction runs it: materialise the failing orders; record the count
 * and a sample in `dq_results`; open one exception per failing order that has no open one of the
 * check's type (`counts: opened`); resolve the open ones whose order no longer fails, appending
 * why to their notes (`counts: resolved`); drop the work table (inside the transaction, as the marts do).
 */
export const planDqCheck = (d: Dialect, check: DqCheck, f: DqFacts): Statement[] => {
  const q = d.quote;
  const work = dqWorkTable(check);
  const failing = failingOrders(d, check, f);
  const results = metaTables(f.schemas).dqResults;
  const e = exceptionsTable(f.schemas);
  const ledger = d.table(e.schema, e.name);
  const type = dqExceptionType(check);
  const source = mart(check.subject).table;
  const orderId = q('order_id');
  return [
    stmt(`create temporary table ${work} as\n${failing.sql}`, failing.params),
    ...analyzeIfFilled(d, work),
    stmt(
      `insert into ${d.table(results.schema, results.name)} (${q('run_id')}, ${q('check_name')}, ${q('failing')}, ${q('sample')}, ${q('checked_at')})
select cast($1 as bigint), cast($2 as varchar),
       (select count(*) from ${work}),
       (select ${d.stringAgg(`w.${orderId}`, "','", `w.${orderId}`)}
          from (select ${orderId} from ${work} order by ${orderId} limit ${DQ_SAMPLE_SIZE}) w),
       ${d.now}`,
      [f.runId, check.name],
    ),
    stmt(
      `insert into ${ledger} (${q('order_id')}, ${q('exception_type')}, ${q('source_table')}, ${q('event_time')}, ${q('detected_at')}, ${q('notes')})
select w.${orderId}, cast($1 as varchar), cast($2 as varchar), w.${q('event_time')}, ${d.now}, cast($3 as varchar)
  from ${work} w
 where not exists (select 1 from ${ledger} x
                    where x.${q('exception_type')} = cast($1 as varchar) and x.${orderId} = w.${orderId}
                      and x.${q('resolved_at')} is null)`,
      [type, source, `${check.problem}; found by monitor run ${f.runId}`],
      'opened',
    ),
    // Appended like planResolveExceptions does, cut at the column's 512 characters: one note for
    // an order found again, another for one gone from mart_uti. Two statements, each subquery in
    // its WHERE: Redshift documents correlated subqueries there, not in a SET expression.
    ...(
      [
        ['exists', `cleared: ${check.found} found by monitor run ${f.runId}`],
        ['not exists', check.gone(f.runId)],
      ] as const
    ).map(([present, note]) =>
      stmt(
        `update ${ledger} as x
   set ${q('resolved_at')} = ${d.now},
       ${q('notes')} = substring(coalesce(nullif(x.${q('notes')}, '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x.${q('exception_type')} = cast($1 as varchar) and x.${q('resolved_at')} is null
   and not exists (select 1 from ${work} w where w.${orderId} = x.${orderId})
   and ${present} (select 1 from ${d.table(f.schemas.mart, uti.table)} u where u.${orderId} = x.${orderId})`,
        [type, note],
        'resolved',
      ),
    ),
    stmt(`drop table if exists ${work}`),
  ];
};

/** The `dq_results` row the check just wrote: `failing`, `sample`. */
export const planDqResult = (
  d: Dialect,
  check: DqCheck,
  f: Pick<DqFacts, 'schemas' | 'runId'>,
): Statement => {
  const results = metaTables(f.schemas).dqResults;
  return stmt(
    `select ${d.quote('failing')} as failing, ${d.quote('sample')} as sample
  from ${d.table(results.schema, results.name)}
 where ${d.quote('run_id')} = $1 and ${d.quote('check_name')} = $2`,
    [f.runId, check.name],
  );
};
