/**
 * The daily monitor (SPEC §6) on DuckDB + SQLite and PostgreSQL + MariaDB: the reconcile brings
 * home what every window missed (rows committed backdated, rows lost from the warehouse) and leaves
 * a matching day alone; the cleanup shrinks raw without touching what is unconsumed or held by an
 * open exception; the exceptions step resolves what the source has fixed and bounds the ledger.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';
import { checkInvariants, diffSnapshots, snapshotBusiness } from '../support/invariants.js';

const NOW = 1_780_000_000; // 2026-05-28 20:26:40 UTC
const DAY = 86_400;
const dayOf = (t: number): number => t - (t % DAY);

interface MonitorJson {
  readonly state: string;
  readonly steps: readonly {
    step: string;
    state: string;
    findings: number;
    details: {
      days?: {
        table: string;
        day: number;
        source: number;
        warehouse: number;
        differs: boolean;
        healed?: number;
      }[];
      cleanup?: Record<string, { expired: number; repeats: number }>;
      exceptions?: { checked: number; resolved: number; deleted: number };
    };
  }[];
}

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`monitor on ${pair.name}`, () => {
    let p: EnginePair;
    let nextId = 1;
    const env = (now: number) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(now),
    });
    const ok = async (args: string[], now: number) => {
      const r = await cli(args, env(now));
      expect(r.stderr, r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    const monitor = async (only: string, now: number): Promise<MonitorJson> =>
      JSON.parse((await ok(['monitor', '--only', only, '--json'], now)).stdout) as MonitorJson;
    const step = (m: MonitorJson, name: string) => m.steps.find((s) => s.step === name)!;
    const count = async (sql: string, params: (string | number)[] = []) =>
      Number((await p.warehouse(sql, params))[0]?.n);

    const tracking = (order: string | null, updateTime: number, id = nextId++) =>
      p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, `TN${id}`, 'IN_TRANSIT', 'DHL', 'Köln', updateTime],
      );
    const ecs = (order: string, addTime: number, id = nextId++) =>
      p.source(
        'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, 7, 'Ada', 'Lyon', 1200, addTime],
      );
    const scan = (order: string, seq: number, pathTime: number, id = nextId++) =>
      p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, seq, pathTime, 'Lyon', 'ARRIVE', null],
      );
    /** Three orders a day for the five days before `now`, each with its ecs row and two scans. */
    const history = async (now: number) => {
      for (let d = 1; d <= 5; d++)
        for (let k = 0; k < 3; k++) {
          const order = `O${d}-${k}`;
          await ecs(order, now - d * DAY - 3_600);
          await tracking(order, now - d * DAY + k * 60);
          await scan(order, 1, now - d * DAY - 1_800 + k);
          await scan(order, 2, now - d * DAY + k);
        }
    };

    beforeEach(async () => {
      p = await pair.create();
      nextId = 1;
    });
    afterEach(async () => p.close());

    it('brings home rows no window read and rows lost from the warehouse; a matching day re-extracts nothing', async () => {
      await history(NOW);
      await ok(['init'], NOW);
      await ok(['run'], NOW);

      // Committed after the cycle with an update_time 3 days back: below every later window.
      await tracking('LATE-1', NOW - 3 * DAY + 100);
      await tracking('LATE-2', NOW - 3 * DAY + 200);
      // And a newer version of an order within the same day: the day's count does not change.
      await p.source(
        `update uni_tracking_info set status = 'DELIVERED', update_time = ? where order_id = 'O3-0'`,
        [NOW - 3 * DAY + 50],
      );
      await ok(['run'], NOW + 900);
      expect(
        await count(
          `select count(*) as n from settlement_ods.mart_uni_tracking_info where order_id like 'LATE-%'`,
        ),
      ).toBe(0);
      // Rows lost from the warehouse: an ecs row and a scan event.
      await p.warehouse(`delete from settlement_ods.mart_ecs_order_info where order_id = 'O4-1'`);
      await p.warehouse(
        `delete from settlement_ods.mart_uni_tracking_spath where order_id = 'O2-0' and traceseq = 2`,
      );
      const batches = await count('select count(*) as n from order_tracking_meta.batches');
      const watermarks = () =>
        p.warehouse(
          'select table_name, cast(value as varchar) as v from order_tracking_meta.watermarks order by 1',
        );
      const marks = await watermarks();

      const healed = await monitor('reconcile', NOW + 1_800);
      const days = step(healed, 'reconcile').details.days!;
      const differing = days
        .filter((d) => d.differs)
        .map((d) => ({ table: d.table, day: d.day, healed: d.healed }));
      expect(differing).toEqual([
        { table: 'uni_tracking_info', day: dayOf(NOW - 3 * DAY), healed: 3 },
        { table: 'ecs_order_info', day: dayOf(NOW - 4 * DAY - 3_600), healed: 1 },
        { table: 'uni_tracking_spath', day: dayOf(NOW - 2 * DAY), healed: 1 },
      ]);
      // In their right homes, with the source's versions.
      expect(
        await p.warehouse(
          `select order_id, update_time from settlement_ods.mart_uni_tracking_info where order_id like 'LATE-%' order by order_id`,
        ),
      ).toEqual([
        { order_id: 'LATE-1', update_time: NOW - 3 * DAY + 100 },
        { order_id: 'LATE-2', update_time: NOW - 3 * DAY + 200 },
      ]);
      expect(
        await p.warehouse(
          `select status, update_time from settlement_ods.mart_uni_tracking_info where order_id = 'O3-0'`,
        ),
      ).toEqual([{ status: 'DELIVERED', update_time: NOW - 3 * DAY + 50 }]);
      expect(
        await count(`select count(*) as n from settlement_ods.mart_ecs_order_info where order_id = 'O4-1'`),
      ).toBe(1);
      expect(
        await count(
          `select count(*) as n from settlement_ods.mart_uni_tracking_spath where order_id = 'O2-0' and traceseq = 2`,
        ),
      ).toBe(1);
      expect(await checkInvariants(p, NOW + 1_800)).toEqual([]);
      // No watermark moved: the reconcile reads beside the cursors, never through them.
      expect(await watermarks()).toEqual(marks);
      await ok(['run'], NOW + 2_700);

      const again = await monitor('reconcile', NOW + 3_600);
      expect(step(again, 'reconcile').details.days!.filter((d) => d.differs)).toEqual([]);
      expect(step(again, 'reconcile').findings).toBe(0);
      // The reconcile's three day batches and the cycle's three: the matching days re-extracted nothing.
      expect(await count('select count(*) as n from order_tracking_meta.batches')).toBe(batches + 3 + 3);
    });

    it('deletes consumed raw rows past the retention and repeated rows, never unconsumed or held ones', async () => {
      await history(NOW);
      await tracking(null, NOW - 2 * DAY, 5_000); // held by an open NULL_ORDER_ID
      await ok(['init'], NOW);
      await ok(['run'], NOW);
      // Eight days on: new orders, then two cycles whose id overlap re-reads every ecs and scan row.
      const later = NOW + 8 * DAY;
      await history(later);
      await ok(['run'], later);
      await ok(['run'], later + 900);
      // A batch landed but never validated (a crashed run): not the cleanup's to delete.
      await p.warehouse(
        `insert into order_tracking_meta.batches (batch_id, run_id, table_name, cursor_column, source_count, landed_count, state, created_at)
         values (999, 99, 'uni_tracking_info', 'update_time', 1, 1, 'landed', cast('2020-01-01 00:00:00' as timestamp))`,
      );
      await p.warehouse(
        `insert into settlement_public.uni_tracking_info_raw (id, order_id, update_time, _batch_id) values (7000, 'STRANDED', ${NOW - DAY}, 999)`,
      );
      const before = await snapshotBusiness(p);

      const m = await monitor('cleanup', later + 1_000);
      const cleanup = step(m, 'cleanup').details.cleanup!;
      expect(cleanup.ecs_order_info!.expired).toBeGreaterThan(0);
      expect(cleanup.uni_tracking_spath!.repeats).toBeGreaterThan(0);
      // Each ecs and scan row once, and only those first landed within the retention (the later 15).
      for (const [table, rows] of [
        ['ecs_order_info', 15],
        ['uni_tracking_spath', 30],
      ] as const) {
        expect(await count(`select count(*) as n from settlement_public.${table}_raw`)).toBe(rows);
        expect(await count(`select count(distinct id) as n from settlement_public.${table}_raw`)).toBe(rows);
      }
      expect(
        await count(`select count(*) as n from settlement_public.uni_tracking_info_raw where id = 5000`),
      ).toBe(1);
      expect(
        await count(
          `select count(*) as n from settlement_public.uni_tracking_info_raw where _batch_id = 999`,
        ),
      ).toBe(1);
      // The marts are what they were.
      expect(diffSnapshots(before, await snapshotBusiness(p))).toEqual([]);

      const again = await monitor('cleanup', later + 1_100);
      const second = step(again, 'cleanup').details.cleanup!;
      expect(Object.values(second).reduce((n, t) => n + t.expired + t.repeats, 0)).toBe(0);
    });

    it('resolves a NULL_ORDER_ID the source fixed, and deletes resolved exceptions past the retention', async () => {
      await history(NOW);
      await tracking(null, NOW - 2 * DAY, 5_000);
      await ok(['init'], NOW);
      await ok(['run'], NOW);
      const ledger = 'settlement_ods.order_tracking_exceptions';
      expect(
        await count(
          `select count(*) as n from ${ledger} where exception_type = 'NULL_ORDER_ID' and resolved_at is null`,
        ),
      ).toBe(1);
      // Fixed in place at the source, update_time untouched: no window reads it again.
      await p.source(`update uni_tracking_info set order_id = 'FIXED-1' where id = 5000`);
      await p.warehouse(
        `insert into ${ledger} (order_id, exception_type, source_table, detected_at, resolved_at, notes) values
           ('OLD', 'BAD_VALUE', 'uni_tracking_info', cast('2025-12-01 00:00:00' as timestamp), cast('2026-01-02 00:00:00' as timestamp), 'old'),
           ('RECENT', 'BAD_VALUE', 'uni_tracking_info', cast('2026-05-01 00:00:00' as timestamp), cast('2026-05-20 00:00:00' as timestamp), 'recent')`,
      );

      const m = await monitor('reconcile,exceptions', NOW + 600);
      expect(step(m, 'exceptions').details.exceptions).toEqual({ checked: 1, resolved: 1, deleted: 1 });
      const [fixed] = await p.warehouse(
        `select resolved_at is not null as resolved, notes from ${ledger} where exception_type = 'NULL_ORDER_ID'`,
      );
      expect(fixed?.resolved).toBe(true);
      expect(String(fixed?.notes)).toMatch(/has an order_id now/);
      // The reconcile brought the fixed row home.
      expect(
        await count(
          `select count(*) as n from settlement_ods.mart_uni_tracking_info where order_id = 'FIXED-1'`,
        ),
      ).toBe(1);
      expect(
        (await p.warehouse(`select order_id from ${ledger} where notes in ('old', 'recent')`)).map(
          (r) => r.order_id,
        ),
      ).toEqual(['RECENT']);
    });

    it('runs the steps that read no source without one, and names the source when a step needs it', async () => {
      await history(NOW);
      await ok(['init'], NOW);
      await ok(['run'], NOW);
      const noSource = { ORDER_TRACKING_WAREHOUSE: p.warehouseUrl, ORDER_TRACKING_NOW: String(NOW + 600) };
      const r = await cli(['monitor', '--only', 'dq,cleanup,maintenance', '--json'], noSource);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as MonitorJson).steps.map((s) => [s.step, s.state])).toEqual([
        ['dq', 'success'],
        ['cleanup', 'success'],
        ['maintenance', 'success'],
      ]);
      const all = await cli(['monitor'], noSource);
      expect(all.code).toBe(2);
      expect(all.stderr.trim().split('\n')).toEqual([
        'order-tracking: no source given: pass --source mysql://… or set ORDER_TRACKING_SOURCE',
      ]);
    });

    it('deletes a batch larger than a chunk whole but for its held row, in bounded statements', async () => {
      await ok(['init'], NOW);
      const rows = 120_001;
      await p.warehouse(
        `insert into settlement_public.uni_tracking_spath_raw (id, order_id, traceseq, pathtime, _batch_id)
         select i, 'O' || cast(i as varchar), 1, ${NOW - 30 * DAY} + i, 1 from generate_series(1, ${rows}) as t(i)`,
      );
      await p.warehouse(
        `insert into order_tracking_meta.batches (batch_id, run_id, table_name, cursor_column, source_count, landed_count, state, created_at)
         values (1, 1, 'uni_tracking_spath', 'id', ${rows}, ${rows}, 'validated', cast('2026-04-01 00:00:00' as timestamp))`,
      );
      await p.warehouse(
        `insert into order_tracking_meta.mart_state (mart, source_table, batch_id, updated_at) values ('mart_uts', 'uni_tracking_spath', 1, current_timestamp)`,
      );
      await p.warehouse(
        `insert into settlement_ods.order_tracking_exceptions (order_id, exception_type, source_table, source_id, detected_at)
         values ('O77', 'BAD_VALUE', 'uni_tracking_spath', 77, current_timestamp)`,
      );
      const m = JSON.parse((await ok(['monitor', '--only', 'cleanup', '--json'], NOW)).stdout) as MonitorJson;
      expect(step(m, 'cleanup').details.cleanup!.uni_tracking_spath).toEqual({
        expired: rows - 1,
        repeats: 0,
      });
      expect(await p.warehouse('select id from settlement_public.uni_tracking_spath_raw')).toEqual([
        { id: 77 },
      ]);
    });

    it('holds the pipeline lease: a cycle or a second monitor started meanwhile exits 75 and changes nothing', async () => {
      await history(NOW);
      await ok(['init'], NOW);
      await ok(['run'], NOW);
      const dir = mkdtempSync(join(tmpdir(), 'ot-monitor-'));
      const pauseFile = join(dir, 'pause');
      const held = cli(['monitor', '--only', 'cleanup'], {
        ...env(NOW + 600),
        ORDER_TRACKING_FAULT: 'pause:start:cleanup',
        ORDER_TRACKING_PAUSE_FILE: pauseFile,
      });
      try {
        for (let i = 0; i < 600 && !existsSync(pauseFile); i++) await new Promise((r) => setTimeout(r, 100));
        expect(existsSync(pauseFile)).toBe(true);
        for (const args of [['run'], ['monitor']]) {
          const r = await cli(args, env(NOW + 900));
          expect(r.code).toBe(75);
          // PostgreSQL names the lease; DuckDB's file lock is the lease and names the process.
          expect(r.stderr).toMatch(
            /^order-tracking: another order-tracking (run is active|process \(pid \d+\) is using)/,
          );
          expect(r.stderr.trim().split('\n')).toHaveLength(1);
        }
      } finally {
        rmSync(pauseFile, { force: true });
      }
      const done = await held;
      expect(done.stderr).toBe('');
      expect(done.code).toBe(0);
      expect(
        (await p.warehouse('select kind, state from order_tracking_meta.runs order by run_id')).map((r) => [
          r.kind,
          r.state,
        ]),
      ).toEqual([
        ['run', 'success'],
        ['monitor', 'success'],
      ]);
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses an unknown step in one line before anything runs', async () => {
      await ok(['init'], NOW);
      const r = await cli(['monitor', '--only', 'reconcile,vacuum'], env(NOW));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        'order-tracking: --only "vacuum" is not a monitor step: use one or more of reconcile, dq, exceptions, cleanup, maintenance',
      ]);
      expect(await count('select count(*) as n from order_tracking_meta.runs')).toBe(0);
    });
  });
}
