/**
 * The marts over time (SPEC §3 marts, §4 retention and archive, §5 bad rows, §6 the daily monitor,
 * §7 one run at a time), one body for DuckDB + SQLite and PostgreSQL + MariaDB, driven through the
 * real CLI with the shared generator feeding the source stage by stage. Every expectation comes from the source and the run's
 * clock (test/support/invariants.ts); clocks and seeds are fixed, so every run is reproducible.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliResult } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';
import { openFeed, SPECIAL_CASE_RATES } from '../support/feed.js';
import {
  checkInvariants,
  diffSnapshots,
  inspect,
  snapshotBusiness,
  type Inspection,
  type InspectStats,
  type Snapshot,
} from '../support/invariants.js';
import { CYCLE_SECONDS, type GeneratorOptions, type TrackingRow } from '../../src/generator/index.js';
import { openLateHostFeed, type LateHost } from '../support/lifecycle-late-host.js';

const MINUTE = 60;
const HOUR = 3_600;
const DAY = 86_400;
/** Each run's clock is its stage's end plus this: past the 60 s settle bound of uni_tracking_info. */
const RUN_DELAY = 120;

const utc = (year: number, month: number, day: number, hour = 0, minute = 0): number =>
  Date.UTC(year, month, day, hour, minute) / 1000;
const iso = (epoch: number): string => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

const START = utc(2024, 6, 1);

/**
 * 19 months of traffic: orders arrive for 570 days (to 2026-01-22) and keep evolving, so long
 * lifecycles (7–9 months) and reactivations after 8 and 14 months of dormancy all happen, and the
 * archives fill 2024_h2 … 2025_h2. Few scans per update keep each check's full comparison fast.
 */
const LIFECYCLE_FEED: GeneratorOptions = {
  seed: 20_240_701,
  start: START,
  days: 570,
  ordersPerDay: 10,
  scansPerUpdate: 1.5,
  rates: SPECIAL_CASE_RATES,
};

/**
 * 22 stage ends: 06:00 on the 1st of each month from Aug 2024 to Feb 2026, plus short stages
 * (15 min, then 1 h) after 1 Jan 2025 so extraction windows overlap, and a 15-minute cycle across
 * midnight of 1 Jan 2026.
 */
const lifecycleStages = (): number[] => {
  const ends: number[] = [];
  for (let k = 1; k <= 19; k++) {
    const monthly = utc(2024, 6 + k, 1, 6);
    if (monthly === utc(2026, 0, 1, 6)) {
      ends.push(utc(2025, 11, 31, 23, 50), utc(2026, 0, 1, 0, 5));
      continue;
    }
    ends.push(monthly);
    if (monthly === utc(2025, 0, 1, 6)) ends.push(monthly + 15 * MINUTE, monthly + HOUR + 15 * MINUTE);
  }
  return ends;
};

/** Four months in one go: a first run long enough (~120,000 scans) for a second one to collide with it. */
const BUSY_FEED: GeneratorOptions = {
  seed: 75,
  start: START,
  days: 120,
  ordersPerDay: 25,
  rates: SPECIAL_CASE_RATES,
};
const BUSY_END = utc(2024, 10, 1, 6);

/** Eight months, then one more: the second stage archives, reactivates and adds a hist period. */
const CRASH_FEED: GeneratorOptions = {
  seed: 20_250_301,
  start: START,
  days: 240,
  ordersPerDay: 6,
  scansPerUpdate: 1.5,
  rates: SPECIAL_CASE_RATES,
};
const CRASH_STAGES = [utc(2025, 2, 1, 6), utc(2025, 3, 1, 6)] as const;
const FAULTS = ['during:extract', 'during:mart_uti', 'during:mart_ecs', 'during:mart_uts'] as const;

/**
 * Seven months of traffic, three times the lifecycle's daily orders so that a late host writes a
 * dozen tracking updates in three hours: an initial load (rows already aged archive), a week in one
 * cycle, then three hours of 15-minute cycles (the production cadence) during which one host,
 * writing the updates of five of the fifteen carriers, commits each update 45 minutes after the
 * update_time it stamps, 15 minutes more than the window's overlap, while the others commit at once
 * (test/support/lifecycle-late-host.ts). The monitor runs at the last cycle's clock, 00:02 the next
 * day, so every missed update lies in the reconcile's span.
 */
const LATE_FEED: GeneratorOptions = {
  seed: 20_250_209,
  start: START,
  days: 250,
  ordersPerDay: 30,
  scansPerUpdate: 1.5,
  rates: SPECIAL_CASE_RATES,
};
const LATE_HOST: LateHost = {
  carriers: new Set(['DHL eCommerce', 'UPS', 'FedEx', 'Royal Mail', 'PostNL']),
  from: utc(2025, 1, 9, 21),
  lagSeconds: 45 * MINUTE,
};
const LATE_STAGES = [
  utc(2025, 1, 1, 6),
  LATE_HOST.from,
  ...Array.from({ length: 12 }, (_, k) => LATE_HOST.from + (k + 1) * CYCLE_SECONDS),
];

/** Orders whose scans pause for at least `DORMANT_MIN` (reactivated ones), with the longest pause. */
const DORMANT_MIN = 240 * DAY;
const dormantOrdersSql = `
  select order_id, max(gap) as gap
    from (select order_id, pathTime - lag(pathTime) over (partition by order_id order by pathTime, id) as gap
            from uni_tracking_spath
           where order_id is not null) g
   group by order_id
  having max(gap) >= ?`;

/** Fails with every violation listed, one kind per paragraph. */
const holds = (violations: readonly string[], context: string): void => {
  if (violations.length > 0) throw new Error(`${context}:\n${violations.join('\n')}`);
};

/** `order-tracking monitor --json` as the tests read it (src/cli/monitor.ts). */
interface MonitorJson {
  readonly state: string;
  readonly steps: readonly {
    readonly step: string;
    readonly state: string;
    readonly findings: number;
    readonly note: string;
    readonly details: {
      readonly days?: readonly ReconcileDay[];
      readonly checks?: readonly { check: string; opened: number }[];
      readonly exceptions?: { resolved: number };
      readonly futureResolved?: number;
    };
  }[];
}
interface ReconcileDay {
  readonly table: string;
  readonly day: number;
  readonly source: number;
  readonly warehouse: number;
  readonly differs: boolean;
  readonly healed?: number;
  readonly stillDiffers?: boolean;
}
const MONITOR_STEPS = ['reconcile', 'dq', 'exceptions', 'cleanup', 'maintenance'];
/** The reconcile's span (`monitor.reconcileDays`), whole UTC days, for each of the three tables. */
const RECONCILE_DAYS = 7;
const LEDGER = 'order_tracking_exceptions';
const details = (m: MonitorJson, step: string) => m.steps.find((s) => s.step === step)?.details ?? {};

/**
 * What the monitor may change in the business content besides what the reconcile heals (left out
 * of both snapshots by the caller): the ledger gains the DQ_* exceptions the dq step opened and
 * closes those the monitor resolved (its exceptions step, and the reconcile's stale FUTURE_TIMESTAMP); every mart and hist table stays as it was.
 */
const monitorChanges = (before: Snapshot, after: Snapshot, m: MonitorJson): string[] => {
  const marts = (s: Snapshot): Snapshot =>
    Object.fromEntries(Object.entries(s).filter(([t]) => t !== LEDGER));
  const out = diffSnapshots(marts(before), marts(after));
  const [was, is] = [before[LEDGER], after[LEDGER]];
  if (was === undefined || is === undefined) return [...out, `${LEDGER} missing`];
  const [open, type] = [is.columns.indexOf('open'), is.columns.indexOf('exception_type')];
  const parse = (row: string) => JSON.parse(row) as unknown[];
  const dq = (row: unknown[]) => String(row[type]).startsWith('DQ_');
  const openRows = (rows: unknown[][]) => rows.filter((r) => r[open] === 1).length;
  const [wasRows, isRows] = [was.rows.map(parse), is.rows.map(parse)];
  const opened = (details(m, 'dq').checks ?? []).reduce((n, c) => n + c.opened, 0);
  // The exceptions step's, and the FUTURE_TIMESTAMP the reconcile resolved before counting.
  const resolved =
    (details(m, 'exceptions').exceptions?.resolved ?? 0) + (details(m, 'reconcile').futureResolved ?? 0);
  const added = isRows.filter(dq);
  if (wasRows.some(dq)) out.push(`${LEDGER}: DQ_* exceptions before the monitor`);
  if (added.length !== opened || openRows(added) !== opened)
    out.push(`${LEDGER}: ${added.length} DQ_* exceptions after the monitor, its dq step opened ${opened}`);
  const kept = isRows.filter((r) => !dq(r));
  if (openRows(wasRows) - openRows(kept) !== resolved)
    out.push(`${LEDGER}: ${openRows(wasRows) - openRows(kept)} closed, the monitor resolved ${resolved}`);
  // Otherwise the same exceptions, open or not.
  const anyState = (rows: unknown[][]) =>
    rows.map((r) => JSON.stringify(r.map((v, i) => (i === open ? 0 : v))));
  out.push(
    ...diffSnapshots(
      { [LEDGER]: { columns: was.columns, rows: anyState(wasRows).sort() } },
      { [LEDGER]: { columns: is.columns, rows: anyState(kept).sort() } },
    ),
  );
  return out;
};

/**
 * checkInvariants after a monitor. invariants.ts keys every open exception by its source row
 * (type, source_table, source_id); the monitor's DQ_* exceptions have none, one per check and order
 * (src/pipeline/monitor/dq-sql.ts), so it reads each check's as one key open N times. Exactly those
 * lines are dropped, and the DQ_* rule is checked instead: one open exception per check and order.
 */
/**
 * The invariants after a monitor, and its own rule for the DQ_* exceptions it opens: one open per
 * check and order, never tied to a source row.
 */
const invariantsAfterMonitor = async (p: EnginePair, now: number): Promise<string[]> => {
  const out = await checkInvariants(p, now);
  const dq = await p.warehouse(
    `select exception_type, order_id, count(*) as n, count(source_id) as ids
       from settlement_ods.${LEDGER}
      where resolved_at is null and substr(exception_type, 1, 3) = 'DQ_'
      group by exception_type, order_id
     having count(*) > 1 or count(source_id) > 0 or order_id is null`,
  );
  if (dq.length > 0) out.push(`open DQ_* exceptions not one per check and order:\n${JSON.stringify(dq)}`);
  return out;
};

/** A tracking row's version: its id and update_time. */
interface Version {
  readonly id: number;
  readonly t: number;
}
const shown = (v: Version | undefined): string => (v === undefined ? 'none' : `id ${v.id} at ${iso(v.t)}`);

/**
 * Orders whose newest tracking version (by update_time, then id) is one the late host committed,
 * and which mart_uti does not hold: missing, or at an older version (`held`).
 */
const lateMissing = async (
  p: EnginePair,
  late: ReadonlyMap<number, TrackingRow>,
): Promise<Map<string, { newest: Version; held?: Version }>> => {
  const newest = new Map<string, Version>();
  for (const r of await p.source(
    'select id, order_id, update_time from uni_tracking_info where order_id is not null',
  )) {
    const [order, id, t] = [String(r.order_id), Number(r.id), Number(r.update_time)];
    const n = newest.get(order);
    if (n === undefined || t > n.t || (t === n.t && id > n.id)) newest.set(order, { id, t });
  }
  const mart = new Map<string, Version>(
    (await p.warehouse('select order_id, id, update_time from settlement_ods.mart_uni_tracking_info')).map(
      (r) => [String(r.order_id), { id: Number(r.id), t: Number(r.update_time) }],
    ),
  );
  const missing = new Map<string, { newest: Version; held?: Version }>();
  for (const [order, v] of newest) {
    const held = mart.get(order);
    if (late.get(v.id)?.update_time !== v.t || (held?.id === v.id && held.t === v.t)) continue;
    missing.set(order, held === undefined ? { newest: v } : { newest: v, held });
  }
  return missing;
};

/** What the invariants say of the late host's missed versions, and how many they count. */
const LATE_KINDS =
  /^mart_uti: (?:content differs from the source's latest version|row missing from the mart and every hist table) \((\d+)\)$/;

/** A snapshot without one table's rows of these orders. */
const withoutOrders = (s: Snapshot, table: string, orders: ReadonlySet<string>): Snapshot => {
  const t = s[table];
  if (t === undefined) return s;
  const at = t.columns.indexOf('order_id');
  const rows = t.rows.filter((row) => !orders.has(String((JSON.parse(row) as unknown[])[at])));
  return { ...s, [table]: { columns: t.columns, rows } };
};

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`marts on ${pair.name}`, () => {
    const env = (p: EnginePair) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
    });
    const runAt = (p: EnginePair, now: number, extra: Record<string, string> = {}): Promise<CliResult> =>
      cli(['run'], { ...env(p), ORDER_TRACKING_NOW: String(now), ...extra });
    const ok = async (p: EnginePair, now: number): Promise<void> => {
      const r = await runAt(p, now);
      expect(r.code, `run at ${iso(now)} exited ${String(r.code ?? r.signal)}: ${r.stderr}`).toBe(0);
    };
    /** The daily monitor, every step, at `now`: it must end 0, say nothing on stderr, every step a success. */
    const monitor = async (p: EnginePair, now: number): Promise<MonitorJson> => {
      const r = await cli(['monitor', '--json'], { ...env(p), ORDER_TRACKING_NOW: String(now) });
      expect(r.stderr, `monitor at ${iso(now)}`).toBe('');
      expect(r.code, `monitor at ${iso(now)} exited ${String(r.code ?? r.signal)}`).toBe(0);
      const m = JSON.parse(r.stdout) as MonitorJson;
      expect(m.state, r.stdout).toBe('success');
      expect(m.steps.map((s) => [s.step, s.state])).toEqual(MONITOR_STEPS.map((s) => [s, 'success']));
      expect(details(m, 'reconcile').days, 'table-days the reconcile compared').toHaveLength(
        3 * RECONCILE_DAYS,
      );
      return m;
    };
    const created = async (): Promise<EnginePair> => {
      const p = await pair.create();
      const init = await cli(['init'], env(p));
      expect(init.code, init.stderr).toBe(0);
      return p;
    };

    /** Pairs of the current test, dropped after it. */
    const opened: EnginePair[] = [];
    const fresh = async (): Promise<EnginePair> => {
      const p = await created();
      opened.push(p);
      return p;
    };
    afterEach(async () => {
      for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
    });

    it('keeps every row in exactly one home through 19 months of traffic, checked after every run', async () => {
      const p = await fresh();
      const feed = await openFeed(p, LIFECYCLE_FEED);
      const stages = lifecycleStages();
      const everArchived = new Set<string>();
      const spathMaxIds: number[] = [];
      let futureRows = 0;
      let awaitingTracking = 0;
      let last: InspectStats | undefined;
      try {
        for (const [i, end] of stages.entries()) {
          await feed.advanceTo(end);
          const [top] = await p.source('select coalesce(max(id), 0) as id from uni_tracking_spath');
          spathMaxIds.push(Number(top?.id));
          const now = end + RUN_DELAY;
          await ok(p, now);
          const { violations, stats } = await inspect(p, now);
          holds(violations, `after run ${i + 1} of ${stages.length} at ${iso(now)}`);
          for (const order of stats.archivedUtiOrders) everArchived.add(order);
          futureRows += stats.futureRows;
          awaitingTracking += stats.awaitingTracking;
          last = stats;
        }
      } finally {
        await feed.close();
      }

      // The scenario really exercised what it is for.
      const final = last as InspectStats;
      expect(
        final.histPeriods.length,
        `periods with hist rows: ${final.histPeriods.join(', ')}`,
      ).toBeGreaterThanOrEqual(3);

      const dormant = await p.source(dormantOrdersSql, [DORMANT_MIN]);
      const reactivated = (minGap: number, maxGap: number): string[] =>
        dormant
          .filter((r) => Number(r.gap) >= minGap && Number(r.gap) < maxGap)
          .map((r) => String(r.order_id))
          .filter((order) => everArchived.has(order) && final.martUtiOrders.has(order));
      const after8 = reactivated(DORMANT_MIN, 400 * DAY);
      const after14 = reactivated(400 * DAY, Number.POSITIVE_INFINITY);
      expect(
        after8.length,
        'orders archived, then back in mart_uti after ~8 months of dormancy',
      ).toBeGreaterThan(0);
      expect(
        after14.length,
        'orders archived, then back in mart_uti after ~14 months of dormancy',
      ).toBeGreaterThan(0);
      // Their ecs rows came back from hist_ecs (some have a NULL order_id in ecs, so no ecs row).
      const ecsBack = (orders: string[]) => orders.filter((order) => final.martEcsOrders.has(order)).length;
      expect(ecsBack(after8), 'reactivated after ~8 months, ecs row back in mart_ecs').toBeGreaterThan(0);
      expect(ecsBack(after14), 'reactivated after ~14 months, ecs row back in mart_ecs').toBeGreaterThan(0);

      expect(
        awaitingTracking,
        'new orders checked in mart_ecs before their tracking started',
      ).toBeGreaterThan(0);
      expect(
        final.ecsBeforeFirstScan,
        'orders whose ecs add_time is hours before their first scan',
      ).toBeGreaterThan(0);
      expect(final.tiesChecked, 'orders whose tracking rows tie on update_time').toBeGreaterThan(0);
      expect(futureRows, 'scans more than a day in the future held back').toBeGreaterThan(0);
      for (const table of ['uni_tracking_info', 'ecs_order_info', 'uni_tracking_spath'])
        expect(
          final.nullOrderIdExceptions[table] ?? 0,
          `open NULL_ORDER_ID exceptions for ${table}`,
        ).toBeGreaterThan(0);

      // Late scans: uploaded after a run whose window their pathTime belongs to (SPEC §3 marts).
      let lateAcrossRuns = 0;
      for (let k = 1; k < stages.length; k++) {
        const [row] = await p.source(
          'select count(*) as n from uni_tracking_spath where order_id is not null and id > ? and id <= ? and pathTime <= ?',
          [spathMaxIds[k - 1] ?? 0, spathMaxIds[k] ?? 0, stages[k - 1] ?? 0],
        );
        lateAcrossRuns += Number(row?.n);
      }
      expect(lateAcrossRuns, 'scans uploaded after the run that covered their pathTime').toBeGreaterThan(0);

      // The daily monitor after the last stage, at the last run's clock: an uninterrupted lifecycle
      // missed nothing, so the reconcile finds every day matching and the marts stay as they were.
      const now = (stages.at(-1) as number) + RUN_DELAY;
      const before = await snapshotBusiness(p);
      const m = await monitor(p, now);
      const differing = (details(m, 'reconcile').days ?? []).filter((d) => d.differs);
      expect(differing, 'days the reconcile found differing after an uninterrupted lifecycle').toEqual([]);
      holds(await invariantsAfterMonitor(p, now), `after the monitor at ${iso(now)}`);
      holds(monitorChanges(before, await snapshotBusiness(p), m), `what the monitor at ${iso(now)} changed`);
    }, 900_000);

    it('brings home with the monitor what a tracking host committing 45 minutes late made the windows miss', async () => {
      const p = await fresh();
      const feed = await openLateHostFeed(p, LATE_FEED, LATE_HOST);
      let now = 0;
      try {
        for (const end of LATE_STAGES) {
          await feed.advanceTo(end);
          now = end + RUN_DELAY;
          await ok(p, now);
        }
      } finally {
        await feed.close();
      }

      // The windows missed some of the late host's updates: their orders' rows in mart_uti are
      // missing or at an older version, and that is all the invariants find wrong.
      const missed = await lateMissing(p, feed.committedLate);
      const list = [...missed].map(([o, v]) => `${o}: source ${shown(v.newest)}, mart ${shown(v.held)}`);
      expect(
        missed.size,
        `orders whose newest tracking version the windows missed, of ${feed.versionsCommittedLate} versions the late host committed (${feed.inFlight} more in flight)`,
      ).toBeGreaterThan(0);
      const found = await checkInvariants(p, now);
      const kinds = found.map((v) => LATE_KINDS.exec(v.split('\n')[0] ?? ''));
      expect(kinds.includes(null), `invariants before the monitor:\n${found.join('\n')}`).toBe(false);
      expect(
        kinds.reduce((n, k) => n + Number(k?.[1]), 0),
        `violations before the monitor, against the missed orders:\n${list.join('\n')}\n${found.join('\n')}`,
      ).toBe(missed.size);

      const watermarks = () =>
        p.warehouse(
          'select table_name, cast(value as varchar) as v from order_tracking_meta.watermarks order by 1',
        );
      const marks = await watermarks();
      const before = await snapshotBusiness(p);
      const m = await monitor(p, now);
      const days = details(m, 'reconcile').days ?? [];
      const differing = new Set(days.filter((d) => d.differs).map((d) => `${d.table} ${iso(d.day)}`));
      // Each missed version's day differed and was re-extracted; none differs after.
      for (const [order, { newest }] of missed)
        expect(
          differing.has(`uni_tracking_info ${iso(newest.t - (newest.t % DAY))}`),
          `the day of order ${order}'s missed version (${shown(newest)}) found differing`,
        ).toBe(true);
      expect(
        days.filter((d) => d.stillDiffers),
        'days still differing after the reconcile',
      ).toEqual([]);
      // What it says it healed is what it brought home: one newer version per missed order.
      expect(
        days.filter((d) => d.table === 'uni_tracking_info').reduce((n, d) => n + (d.healed ?? 0), 0),
        'tracking rows the reconcile says it healed',
      ).toBe(missed.size);
      const left = await lateMissing(p, feed.committedLate);
      expect(
        [...left].map(([o, v]) => `${o}: source ${shown(v.newest)}, mart ${shown(v.held)}`),
        'missed orders the monitor did not bring home',
      ).toEqual([]);
      holds(await invariantsAfterMonitor(p, now), `after the monitor at ${iso(now)}`);
      const healed = new Set(missed.keys());
      holds(
        monitorChanges(
          withoutOrders(before, 'mart_uni_tracking_info', healed),
          withoutOrders(await snapshotBusiness(p), 'mart_uni_tracking_info', healed),
          m,
        ),
        `what the monitor at ${iso(now)} changed beside the missed orders`,
      );
      expect(await watermarks(), 'watermarks after the monitor').toEqual(marks);
    }, 300_000);

    it('lets exactly one of two simultaneous runs work; the other exits 75 and changes nothing', async () => {
      const p = await fresh();
      const feed = await openFeed(p, BUSY_FEED);
      try {
        await feed.advanceTo(BUSY_END);
      } finally {
        await feed.close();
      }
      const now = BUSY_END + RUN_DELAY;
      const results = await Promise.all([runAt(p, now), runAt(p, now)]);
      const codes = results.map((r) => r.code).sort();
      expect(codes, results.map((r) => r.stderr).join('\n')).toEqual([0, 75]);
      const loser = results.find((r) => r.code === 75) as CliResult;
      expect(loser.stderr.trim().split('\n'), loser.stderr).toHaveLength(1);
      // PostgreSQL reports its advisory lock; DuckDB its file lock, with the holder's pid.
      expect(loser.stderr).toMatch(/another order-tracking/);
      const runs = await p.warehouse('select count(*) as n from order_tracking_meta.runs');
      expect(runs, 'the refused run left no trace in the run ledger').toEqual([{ n: 1 }]);
      holds(await checkInvariants(p, now), `after the run at ${iso(now)}`);
    }, 300_000);

    describe('crash safety', () => {
      /** Fed and run like every crashed pair, never interrupted: the state they must converge to. */
      let twin: EnginePair | undefined;
      const expected: Snapshot[] = [];
      /** The twin inspected after each stage: the first is an initial load of eight months. */
      const inspected: Inspection[] = [];

      const feedAndRun = async (
        p: EnginePair,
        stage: (index: number, now: number) => Promise<void>,
      ): Promise<void> => {
        const feed = await openFeed(p, CRASH_FEED);
        try {
          for (const [i, end] of CRASH_STAGES.entries()) {
            await feed.advanceTo(end);
            await stage(i, end + RUN_DELAY);
          }
        } finally {
          await feed.close();
        }
      };

      beforeAll(async () => {
        const p = await created();
        twin = p;
        await feedAndRun(p, async (_, now) => {
          await ok(p, now);
          expected.push(await snapshotBusiness(p));
          inspected.push(await inspect(p, now));
        });
      }, 300_000);
      afterAll(async () => twin?.close());

      for (const fault of FAULTS) {
        it(`converges to the uninterrupted state after a SIGKILL ${fault}, in the first load and later`, async () => {
          const p = await fresh();
          await feedAndRun(p, async (i, now) => {
            const killed = await runAt(p, now, { ORDER_TRACKING_FAULT: fault });
            expect(killed.signal, `run with ORDER_TRACKING_FAULT=${fault}: ${killed.stderr}`).toBe('SIGKILL');
            await ok(p, now);
            const diff = diffSnapshots(expected[i] as Snapshot, await snapshotBusiness(p));
            holds(
              diff,
              `after stage ${i + 1}, killed ${fault} then run again, versus the uninterrupted twin`,
            );
          });
          holds(await checkInvariants(p, CRASH_STAGES[1] + RUN_DELAY), 'after recovery');
        }, 300_000);
      }

      it('keeps every row in exactly one home right after an initial load holding rows already aged', () => {
        const [first] = inspected;
        // Its rows older than the cutoff never sit in the mart: on DuckDB they go from the stage
        // straight to hist (archiveStageFirst), on PostgreSQL through the mart in one transaction.
        expect(
          first?.stats.histPeriods.length,
          'periods with hist rows after the initial load',
        ).toBeGreaterThan(0);
        holds(first?.violations ?? ['not inspected'], 'the uninterrupted twin after its initial load');
      });

      it('changes nothing when run again with nothing new', async () => {
        const p = twin as EnginePair;
        const now = CRASH_STAGES[1] + RUN_DELAY;
        holds(await checkInvariants(p, now), 'the uninterrupted twin');
        // The same clock, then a slightly later one that moves no cutoff and un-futures no row.
        for (const again of [now, now + MINUTE]) {
          await ok(p, again);
          holds(
            diffSnapshots(expected[1] as Snapshot, await snapshotBusiness(p)),
            `run again at ${iso(again)}`,
          );
          holds(await checkInvariants(p, again), `run again at ${iso(again)}`);
        }
      }, 300_000);
    });
  });
}
