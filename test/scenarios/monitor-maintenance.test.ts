/**
 * The monitor's maintenance step (SPEC §6) on each engine: PostgreSQL vacuums and analyzes the
 * marts, raw, the ledger and only the hist tables written since, each outside any transaction;
 * DuckDB checkpoints beside the run ledger's open session, and the file reads afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
import { openFeed } from '../support/feed.js';

const utc = (year: number, month: number, day: number): number => Date.UTC(year, month, day) / 1000;
const START = utc(2025, 0, 1);
const FIRST = utc(2025, 8, 1); // 1 Sep 2025: the cutoff is in March 2025, so 2025_h1 fills up
const ODS = 'settlement_ods';
const RAW = 'settlement_public';
const always = [
  `${ODS}.mart_uni_tracking_info`,
  `${ODS}.mart_ecs_order_info`,
  `${ODS}.mart_uni_tracking_spath`,
  `${RAW}.uni_tracking_info_raw`,
  `${RAW}.ecs_order_info_raw`,
  `${RAW}.uni_tracking_spath_raw`,
  `${ODS}.order_tracking_exceptions`,
];

interface Step {
  readonly sql: string;
  readonly table: string | null;
  readonly reason: string;
  readonly seconds: number;
}
interface MonitorJson {
  readonly state: string;
  readonly steps: { step: string; state: string; note: string; details: { steps?: Step[] } }[];
  readonly tasks: { task: string; state: string; rowsWritten?: number }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const pair of pairs) {
  describe.skipIf(await pair.skip())(`monitor maintenance on ${pair.name}`, () => {
    let p: EnginePair;
    const env = (extra: Record<string, string> = {}) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ...extra,
    });
    const monitor = async (now: number): Promise<MonitorJson> => {
      const r = await cli(
        ['monitor', '--only', 'maintenance', '--json'],
        env({ ORDER_TRACKING_NOW: String(now) }),
        { deadlineMs: 110_000 },
      );
      expect(r.stderr).not.toMatch(/order-tracking:/);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as MonitorJson;
    };
    const maintenance = (m: MonitorJson) => {
      const step = m.steps.find((s) => s.step === 'maintenance');
      expect(step?.state).toBe('success');
      return { note: step?.note ?? '', steps: step?.details.steps ?? [] };
    };

    beforeEach(async () => {
      p = await pair.create();
      expect((await cli(['init'], env())).code).toBe(0);
      const feed = await openFeed(p, {
        seed: 11,
        start: START,
        days: 240,
        ordersPerDay: 8,
        scansPerUpdate: 1.5,
      });
      await feed.advanceTo(FIRST);
      await feed.close();
      const run = await cli(['run'], env({ ORDER_TRACKING_NOW: String(FIRST + 120) }));
      expect(run.stderr).not.toMatch(/order-tracking:/);
      expect(run.code).toBe(0);
    });
    afterEach(async () => p.close());

    if (pair.name.startsWith('postgres')) {
      /** Each table's `pg_stat_user_tables` line, by `schema.table`. */
      const stats = async () =>
        new Map(
          (
            await p.warehouse(
              `select schemaname || '.' || relname as name, vacuum_count, autovacuum_count, analyze_count,
                      autoanalyze_count, n_mod_since_analyze, n_ins_since_vacuum, n_dead_tup
                 from pg_stat_user_tables where schemaname in ($1, $2)`,
              [ODS, RAW],
            )
          ).map((r) => [
            String(r.name),
            {
              vacuums: Number(r.vacuum_count),
              autovacuums: Number(r.autovacuum_count),
              analyzes: Number(r.analyze_count),
              changed: Number(r.n_mod_since_analyze) + Number(r.n_ins_since_vacuum) + Number(r.n_dead_tup),
            },
          ]),
        );
      /** Waits until the statistics show what `ready` asks (a backend reports its counts within ~1 s of going idle). */
      const settled = async (ready: (s: Awaited<ReturnType<typeof stats>>) => boolean) => {
        for (let i = 0; i < 100; i++) {
          const s = await stats();
          if (ready(s)) return s;
          await sleep(200);
        }
        throw new Error('the statistics never showed the writes');
      };

      it('vacuums and analyzes the marts, raw, the ledger and the hist tables written since, outside any transaction', async () => {
        const hist = [...(await stats()).keys()].filter((n) => n.startsWith(`${ODS}.hist_`)).sort();
        expect(hist).toEqual(
          expect.arrayContaining([
            `${ODS}.hist_uni_tracking_info_2025_h1`,
            `${ODS}.hist_uni_tracking_spath_2025_h1`,
          ]),
        );
        // The run's writes to hist reach the statistics (or autovacuum already dealt with them).
        const before1 = await settled((s) =>
          hist.every((h) => (s.get(h)?.changed ?? 0) > 0 || (s.get(h)?.autovacuums ?? 0) > 0),
        );

        const first = maintenance(await monitor(FIRST + 3600));
        const after1 = await stats();
        for (const table of always) {
          expect(after1.get(table)?.vacuums, table).toBe((before1.get(table)?.vacuums ?? 0) + 1);
          expect(after1.get(table)?.analyzes, table).toBe((before1.get(table)?.analyzes ?? 0) + 1);
        }
        // Every hist table was written by the run: vacuumed now, unless autovacuum had done it all.
        for (const table of hist)
          expect(
            (after1.get(table)?.vacuums ?? 0) + (after1.get(table)?.autovacuums ?? 0),
            table,
          ).toBeGreaterThan(0);
        expect(first.steps.map((s) => s.table)).toEqual(expect.arrayContaining(always));
        expect(first.steps.every((s) => /^vacuum \(analyze\) "[^"]+"\."[^"]+"$/.test(s.sql))).toBe(true);
        expect(first.steps.every((s) => s.seconds >= 0 && s.reason.length > 0)).toBe(true);
        expect(first.note).toMatch(
          new RegExp(`^VACUUM \\(ANALYZE\\) ${first.steps.length} tables in \\d+\\.\\d\\d s$`),
        );

        // One hist table written after the monitor, the other not.
        const [written, untouched] = [
          `${ODS}.hist_uni_tracking_info_2025_h1`,
          `${ODS}.hist_uni_tracking_spath_2025_h1`,
        ];
        await p.warehouse(
          `update ${written} set order_id = order_id where order_id = (select min(order_id) from ${written})`,
        );
        await settled((s) => (s.get(written)?.changed ?? 0) > 0);
        const before2 = await stats();
        expect(before2.get(untouched)?.changed).toBe(0);

        const m2 = await monitor(FIRST + 2 * 3600);
        const second = maintenance(m2);
        const after2 = await stats();
        for (const table of [...always, written])
          expect(after2.get(table)?.vacuums, table).toBe((before2.get(table)?.vacuums ?? 0) + 1);
        expect(after2.get(untouched)?.vacuums).toBe(before2.get(untouched)?.vacuums);
        expect(second.steps.map((s) => s.table)).toContain(written);
        expect(second.steps.map((s) => s.table)).not.toContain(untouched);
        expect(second.steps.find((s) => s.table === written)?.reason).toMatch(/^hist: written since/);
        expect(m2.tasks.find((t) => t.task === 'maintenance')?.rowsWritten).toBe(second.steps.length);
        // The run ledger recorded the step.
        const [ledger] = await p.warehouse(
          `select state, rows_written from order_tracking_meta.task_instances where task = 'maintenance' order by run_id desc limit 1`,
        );
        expect(ledger).toMatchObject({ state: 'success', rows_written: second.steps.length });
      });
    } else {
      it('checkpoints the file beside the run ledger’s open session, and status reads it afterwards', async () => {
        const counts = async () =>
          (
            await p.warehouse(
              `select (select count(*) from ${ODS}.mart_uni_tracking_info) as uti,
                      (select count(*) from ${ODS}.mart_uni_tracking_spath) as uts`,
            )
          )[0];
        const before = await counts();
        const m = await monitor(FIRST + 3600);
        const { note, steps } = maintenance(m);
        expect(steps).toEqual([
          { sql: 'checkpoint', table: null, reason: expect.any(String), seconds: expect.any(Number) },
        ]);
        expect(note).toMatch(/^CHECKPOINT in \d+\.\d\d s$/);
        expect(m.tasks.find((t) => t.task === 'maintenance')).toMatchObject({
          state: 'success',
          rowsWritten: 1,
        });

        const status = await cli(['status', '--json'], env());
        expect(status.stderr).not.toMatch(/order-tracking:/);
        expect(status.code).toBe(0);
        const report = JSON.parse(status.stdout) as { tables: { marts: { table: string; rows: number }[] } };
        expect(report.tables.marts.find((t) => t.table === 'mart_uni_tracking_info')?.rows).toBe(before?.uti);
        expect(await counts()).toEqual(before);
        const [ledger] = await p.warehouse(
          `select state, rows_written from order_tracking_meta.task_instances where task = 'maintenance'`,
        );
        expect(ledger).toMatchObject({ state: 'success', rows_written: 1 });
      });
    }
  });
}
