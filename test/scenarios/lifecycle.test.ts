/**
 * The marts over time (SPEC §3 marts, §4 retention and archive, §5 bad rows, §7 one run at a time),
 * one body for DuckDB + SQLite and PostgreSQL + MariaDB, driven through the real CLI with the shared
 * generator feeding the source stage by stage. Every expectation comes from the source and the run's
 * clock (test/support/invariants.ts); clocks and seeds are fixed, so every run is reproducible.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliResult } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
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
import type { GeneratorOptions } from '../../src/generator/index.js';

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

for (const pair of pairs) {
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
    }, 900_000);

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
