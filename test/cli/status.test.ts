/**
 * `order-tracking status` (SPEC §8) through the real CLI on DuckDB + SQLite and PostgreSQL + MariaDB:
 * runs, the last monitor run, watermarks and lag, table sizes, hist periods, open exceptions;
 * read-only; passwords never printed.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/settings.js';
import { parseWarehouseUrl } from '../../src/config/urls.js';
import type { Value } from '../../src/engines/types.js';
import { openWarehouse } from '../../src/engines/warehouse/open.js';
import { withConnection } from '../../src/engines/warehouse/warehouse.js';
import type { StatusReport } from '../../src/pipeline/status/types.js';
import { leaseKey } from '../../src/runner/run-cycle.js';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28 20:26:40 UTC

/**
 * SQL on the pair's warehouse through the engine's own connection (`$1` placeholders), opened and
 * closed per call. Not `p.warehouse`: that pool has no 'error' listener, so under load a session
 * still closing when `close()` drops the database (`with (force)`) surfaces as an unhandled 57P01.
 */
const warehouseSql = async (p: EnginePair, text: string, params: readonly Value[] = []) => {
  const warehouse = await openWarehouse(parseWarehouseUrl(p.warehouseUrl));
  try {
    return await withConnection(warehouse, (c) => c.query(text, params));
  } finally {
    await warehouse.close();
  }
};
const HOUR = 3600;

const insertTracking = (p: EnginePair, id: number, order: string, updateTime: number) =>
  p.source(
    'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
    [id, order, `TN${id}`, 'IN_TRANSIT', 'DHL', 'Köln', updateTime],
  );
const insertOrder = (p: EnginePair, id: number, order: string, addTime: number) =>
  p.source(
    'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
    [id, order, 7, 'Zoë', 'Lyon', 1200, addTime],
  );
const insertScan = (p: EnginePair, id: number, order: string, seq: number, pathTime: number) =>
  p.source(
    'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
    [id, order, seq, pathTime, 'Zürich', 'ARRIVE', null],
  );

const insertException = (p: EnginePair, id: number, type: string, order: string | null, resolved: boolean) =>
  warehouseSql(
    p,
    `insert into settlement_ods.order_tracking_exceptions
       (exception_id, order_id, exception_type, source_table, source_id, detected_at, resolved_at)
     values ($1, $2, $3, 'uni_tracking_info', $4, timestamp '2026-05-28 10:00:00', ${resolved ? "timestamp '2026-05-28 11:00:00'" : 'null'})`,
    [id, order, type, id],
  );

for (const pair of pairs) {
  describe.skipIf(await pair.skip())(`status on ${pair.name}`, () => {
    let p: EnginePair;
    // A password trust auth ignores: it must never be printed.
    const warehouseUrl = () => p.warehouseUrl.replace('postgres://postgres@', 'postgres://postgres:s3cr3t@');
    const env = (extra: Record<string, string> = {}) => ({
      ORDER_TRACKING_WAREHOUSE: warehouseUrl(),
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(NOW),
      ...extra,
    });
    const ok = async (args: string[], extra: Record<string, string> = {}) => {
      const r = await cli(args, env(extra));
      expect(r.stderr, r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    const oneLine = (r: { stderr: string }) => {
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      return lines[0] ?? '';
    };

    beforeEach(async () => {
      p = await pair.create();
    });
    afterEach(async () => p.close());

    it('fails with one line before init, and creates nothing', async () => {
      const r = await cli(['status'], env());
      expect(oneLine(r)).toMatch(
        /^order-tracking: warehouse .* has no order_tracking_meta\.runs: run `order-tracking init` first$/,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/s3cr3t/);
      if (p.warehouseUrl.startsWith('duckdb:'))
        expect(existsSync(p.warehouseUrl.slice('duckdb:'.length))).toBe(false);
      else
        expect(
          await warehouseSql(
            p,
            `select 1 from information_schema.schemata where schema_name = 'order_tracking_meta'`,
          ),
        ).toEqual([]);
    });

    describe('after init and a run', () => {
      beforeEach(async () => {
        await insertTracking(p, 1, 'OT1', NOW - 5 * HOUR);
        await insertTracking(p, 2, 'OT2', NOW - 4 * HOUR);
        await insertOrder(p, 1, 'OT1', NOW - 6 * HOUR);
        await insertOrder(p, 2, 'OT2', NOW - 6 * HOUR);
        await insertScan(p, 1, 'OT1', 1, NOW - 5 * HOUR);
        await ok(['init']);
        await ok(['run']);
        // Arrived after the run: the id watermarks trail the source by 3 and 0.
        for (const id of [3, 4, 5]) await insertOrder(p, id, `OT${id}`, NOW - HOUR);
        // A failed run with a multi-line error, as the runner records it.
        await warehouseSql(
          p,
          `insert into order_tracking_meta.runs (run_id, kind, state, started_at, ended_at, error)
           values (2, 'run', 'failed', timestamp '2026-05-28 20:30:00', timestamp '2026-05-28 20:30:01.5', $1)`,
          ['validate: uni_tracking_info source has 3 rows, raw has 2\n    at stack frame'],
        );
        await warehouseSql(
          p,
          'create table settlement_ods.hist_uni_tracking_info_2025_h2 (order_id varchar(64))',
        );
        await warehouseSql(
          p,
          `insert into settlement_ods.hist_uni_tracking_info_2025_h2 values ('OT0'), ('OT00')`,
        );
        await insertException(p, 9001, 'ARCHIVE_ROUTING_GAP', 'OT1', false);
        await insertException(p, 9002, 'ARCHIVE_ROUTING_GAP', 'OT2', false);
        await insertException(p, 9003, 'ARCHIVE_ROUTING_GAP', 'OT3', true);
        await insertException(p, 9004, 'DQ_MISSING_SPATH', 'OT2', false);
      });

      it('shows runs, watermarks with lag, table sizes, hist periods and open exceptions', async () => {
        const r = await ok(['status']);
        const out = r.stdout;
        expect(out).not.toMatch(/s3cr3t/);
        if (pair.name.startsWith('postgres'))
          expect(out).toMatch(/^warehouse\s+postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/m);
        expect(out).toMatch(/^clock\s+2026-05-28 20:26:40 UTC$/m);

        // Newest run first; the error's first line only.
        expect(out).toMatch(
          /^\s+2\s+run\s+failed\s+2026-05-28 20:30:00\s+1\.50\s+validate: uni_tracking_info source has 3 rows, raw has 2$/m,
        );
        expect(out).toMatch(/^\s+1\s+run\s+success\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\.\d\d$/m);
        expect(out).not.toMatch(/stack frame/);

        // update_time: the greatest landed (OT2's, 4 h old); ids: against the source's max id.
        expect(out).toMatch(/^\s+uni_tracking_info\s+update_time\s+2026-05-28 16:26:40\s+4\.0 h behind$/m);
        expect(out).toMatch(/^\s+ecs_order_info\s+id\s+id 2\s+3 ids behind source max 5$/m);
        expect(out).toMatch(/^\s+uni_tracking_spath\s+id\s+id 1\s+0 ids behind source max 1$/m);

        expect(out).toMatch(/^\s+settlement_public\.uni_tracking_info_raw\s+2$/m);
        expect(out).toMatch(/^\s+settlement_public\.ecs_order_info_raw\s+2$/m);
        expect(out).toMatch(/^\s+settlement_public\.uni_tracking_spath_raw\s+1$/m);
        expect(out).toMatch(/^\s+settlement_ods\.mart_uni_tracking_info\s+(2|absent)$/m);

        expect(out).toMatch(/^\s+2025_h2\s+settlement_ods\.hist_uni_tracking_info_2025_h2\s+2$/m);

        expect(out).toMatch(/^\s+type\s+open\s+oldest\s+newest$/m);
        expect(out).toMatch(/^\s+ARCHIVE_ROUTING_GAP\s+2\s+2026-05-28 10:00:00\s+2026-05-28 10:00:00$/m);
        expect(out).toMatch(/^\s+DQ_MISSING_SPATH\s+1\s+2026-05-28 10:00:00\s+2026-05-28 10:00:00$/m);
        expect(out).toMatch(/^\s+total\s+3$/m);
      });

      it('--json prints the same data as one object', async () => {
        const r = await ok(['status', '--json']);
        expect(r.stdout).not.toMatch(/s3cr3t/);
        expect(r.stdout.trim().split('\n')).toHaveLength(1);
        const s = JSON.parse(r.stdout) as StatusReport;
        expect(s.now).toBe(NOW);
        expect(s.warehouse).not.toMatch(/s3cr3t/);
        // The source's clock is the real one, years after NOW: far more than the overlap apart.
        expect(s.source).toMatchObject({ url: p.sourceUrl, error: null });
        expect(s.source?.clockSkew).toBeGreaterThan(0);
        expect(s.source?.clockWarning).toMatch(
          /^the source's clock is \d+ s ahead of ours, more than the 1800 s overlap/,
        );
        expect(s.runs.map((run) => [run.runId, run.state])).toEqual([
          [2, 'failed'],
          [1, 'success'],
        ]);
        expect(s.runs[0]).toMatchObject({
          seconds: 1.5,
          error: 'validate: uni_tracking_info source has 3 rows, raw has 2',
        });
        expect(s.watermarks).toEqual([
          expect.objectContaining({
            table: 'uni_tracking_info',
            kind: 'time',
            value: NOW - 4 * HOUR,
            lagSeconds: 4 * HOUR,
          }),
          expect.objectContaining({
            table: 'ecs_order_info',
            kind: 'id',
            value: 2,
            sourceMax: 5,
            idsBehind: 3,
          }),
          expect.objectContaining({
            table: 'uni_tracking_spath',
            kind: 'id',
            value: 1,
            sourceMax: 1,
            idsBehind: 0,
          }),
        ]);
        expect(s.tables.raw.map((t) => [t.table, t.rows])).toEqual([
          ['uni_tracking_info_raw', 2],
          ['ecs_order_info_raw', 2],
          ['uni_tracking_spath_raw', 1],
        ]);
        expect(s.tables.marts.map((t) => t.table)).toEqual([
          'mart_uni_tracking_info',
          'mart_ecs_order_info',
          'mart_uni_tracking_spath',
        ]);
        expect(s.hist).toEqual([
          {
            period: '2025_h2',
            rows: 2,
            estimated: false,
            tables: [
              {
                schema: 'settlement_ods',
                table: 'hist_uni_tracking_info_2025_h2',
                mart: 'mart_uti',
                exists: true,
                rows: 2,
                estimated: false,
              },
            ],
          },
        ]);
        expect(s.exceptions).toEqual({
          open: 3,
          byType: [
            {
              type: 'ARCHIVE_ROUTING_GAP',
              count: 2,
              oldest: '2026-05-28T10:00:00.000Z',
              newest: '2026-05-28T10:00:00.000Z',
            },
            {
              type: 'DQ_MISSING_SPATH',
              count: 1,
              oldest: '2026-05-28T10:00:00.000Z',
              newest: '2026-05-28T10:00:00.000Z',
            },
          ],
        });
      });

      it('shows the last monitor run: never before the first, then when, its state, seconds and findings per step', async () => {
        const before = (await ok(['status'])).stdout;
        expect(before).toMatch(/^last monitor: never$/m);
        expect((JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport).lastMonitor).toBeNull();

        await ok(['monitor', '--only', 'maintenance']);
        const s = JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport;
        expect(s.runs[0]).toMatchObject({ runId: 3, kind: 'monitor', state: 'success' });
        expect(s.lastMonitor).toEqual({
          runId: 3,
          state: 'success',
          startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/),
          endedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/),
          seconds: expect.any(Number),
          error: null,
          findings: 0,
          steps: [
            {
              step: 'maintenance',
              state: 'success',
              seconds: expect.any(Number),
              findings: 0,
              note: expect.any(String),
            },
          ],
        });
        expect(s.lastMonitor?.seconds).toBe(s.runs[0]?.seconds);

        const out = (await ok(['status'])).stdout;
        const started = (s.lastMonitor?.startedAt ?? '').replace('T', ' ').replace(/(\.\d+)?Z$/, '');
        expect(out).toContain(
          `\nlast monitor: run 3, started ${started} UTC, success in ${s.lastMonitor?.seconds?.toFixed(2)} s, 0 findings\n`,
        );
        expect(out).toMatch(
          /^last monitor: run 3,.*\n\s+step\s+state\s+seconds\s+findings\s+result\n\s+maintenance\s+success\s+\d+\.\d\d\s+0(\s|$)/m,
        );
        expect(out).not.toMatch(/never/);
        // Between the runs and the watermarks.
        const at = (text: string) => out.indexOf(text);
        expect(at('runs (last 10)')).toBeLessThan(at('last monitor: '));
        expect(at('last monitor: ')).toBeLessThan(at('\nwatermarks\n'));
      });

      it("groups the latest monitor run's tasks by step: findings summed, a failed step's error, not a later cycle", async () => {
        const task = (name: string, seconds: number, extra: Record<string, unknown> = {}) => ({
          task: name,
          state: 'success',
          startedAt: '2026-05-29T03:00:00.000Z',
          endedAt: '2026-05-29T03:00:01.000Z',
          seconds,
          ...extra,
        });
        const summary = (runId: number, state: string, seconds: number, tasks: object[]) =>
          JSON.stringify({ runId, kind: 'monitor', state, seconds, tasks });
        const insertRun = (
          runId: number,
          kind: string,
          state: string,
          text: string | null,
          error: string | null,
        ) =>
          warehouseSql(
            p,
            `insert into order_tracking_meta.runs (run_id, kind, state, started_at, ended_at, error, summary)
             values ($1, $2, $3, timestamp '2026-05-29 03:00:00', timestamp '2026-05-29 03:00:05', $4, $5)`,
            [runId, kind, state, error, text],
          );
        // An older monitor run, the one that counts, then a cycle after it.
        await insertRun(
          5,
          'monitor',
          'success',
          summary(5, 'success', 1, [task('dq', 1, { findings: 9 })]),
          null,
        );
        await insertRun(
          6,
          'monitor',
          'failed',
          summary(6, 'failed', 4, [
            task('check_drift', 0.5),
            task('reconcile', 1.25, { findings: 2, note: '21 table-days checked, 2 differ', rowsRead: 40 }),
            task('validate', 0.25),
            task('mart_uti', 0.5),
            task('tests', 0.25),
            task('reconciled', 0.25, { note: '2 days healed' }),
            task('dq', 0.5, { state: 'failed', error: 'check DQ_X failed\n    at frame' }),
            task('exceptions', 0.5, { findings: 3, note: '3 exceptions aged out' }),
            task('maintenance', 0.25, { note: 'vacuumed 6 tables' }),
            task('some_new_task', 0.25, { findings: 1 }),
          ]),
          'dq: check DQ_X failed\n    at frame',
        );
        await insertRun(7, 'run', 'success', null, null);

        const s = JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport;
        expect(s.lastMonitor).toEqual({
          runId: 6,
          state: 'failed',
          startedAt: '2026-05-29T03:00:00.000Z',
          endedAt: '2026-05-29T03:00:05.000Z',
          seconds: 4,
          error: 'dq: check DQ_X failed',
          findings: 6,
          steps: [
            {
              step: 'reconcile',
              state: 'success',
              seconds: 3,
              findings: 2,
              note: '21 table-days checked, 2 differ; 2 days healed',
            },
            { step: 'dq', state: 'failed', seconds: 0.5, findings: 0, note: 'dq: check DQ_X failed' },
            {
              step: 'exceptions',
              state: 'success',
              seconds: 0.5,
              findings: 3,
              note: '3 exceptions aged out',
            },
            { step: 'maintenance', state: 'success', seconds: 0.25, findings: 0, note: 'vacuumed 6 tables' },
            { step: 'some_new_task', state: 'success', seconds: 0.25, findings: 1, note: '' },
          ],
        });

        const out = (await ok(['status'])).stdout;
        const section = out.slice(out.indexOf('last monitor: '), out.indexOf('\nwatermarks\n')).trimEnd();
        expect(section.split('\n')).toEqual([
          'last monitor: run 6, started 2026-05-29 03:00:00 UTC, failed in 4.00 s, 6 findings',
          expect.stringMatching(/^ {2}step\s+state\s+seconds\s+findings\s+result$/),
          expect.stringMatching(
            /^ {2}reconcile\s+success\s+3\.00\s+2\s+21 table-days checked, 2 differ; 2 days healed$/,
          ),
          expect.stringMatching(/^ {2}dq\s+failed\s+0\.50\s+0\s+dq: check DQ_X failed$/),
          expect.stringMatching(/^ {2}exceptions\s+success\s+0\.50\s+3\s+3 exceptions aged out$/),
          expect.stringMatching(/^ {2}maintenance\s+success\s+0\.25\s+0\s+vacuumed 6 tables$/),
          expect.stringMatching(/^ {2}some_new_task\s+success\s+0\.25\s+1$/),
          '  error: dq: check DQ_X failed',
        ]);
        expect(out).not.toMatch(/at frame/);

        // A monitor still running shows as such, without steps.
        await insertRun(8, 'monitor', 'running', null, null);
        const running = JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport;
        expect(running.lastMonitor).toMatchObject({
          runId: 8,
          state: 'running',
          seconds: null,
          findings: 0,
          steps: [],
        });
        expect((await ok(['status'])).stdout).toMatch(
          /^last monitor: run 8, started 2026-05-29 03:00:00 UTC, running$/m,
        );
      });

      it('shows the last monitor while a run holds the warehouse (DuckDB: from the snapshot the monitor left)', async () => {
        const settings = resolveSettings({ warehouse: p.warehouseUrl }, {});
        const held = async <T>(read: () => Promise<T>): Promise<T> => {
          const holder = await openWarehouse(parseWarehouseUrl(p.warehouseUrl));
          try {
            const lease = await holder.tryLease(leaseKey(settings));
            expect(lease).not.toBeNull();
            try {
              return await read();
            } finally {
              await lease?.release();
            }
          } finally {
            await holder.close();
          }
        };
        const never = await held(async () => (await ok(['status'])).stdout);
        expect(never.split('\n')[0]).toMatch(/^run active /);
        expect(never).toMatch(/^last monitor: never$/m);

        // A gap detected later than the others: the snapshot the monitor leaves has it as the newest.
        await warehouseSql(
          p,
          `insert into settlement_ods.order_tracking_exceptions (exception_id, order_id, exception_type, detected_at)
           values (9005, 'OT5', 'ARCHIVE_ROUTING_GAP', timestamp '2026-05-28 12:30:00')`,
        );
        await ok(['monitor', '--only', 'maintenance']);
        const live = JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport;
        expect(live.lastMonitor).toMatchObject({ runId: 3, state: 'success' });
        expect(live.exceptions.byType[0]).toEqual({
          type: 'ARCHIVE_ROUTING_GAP',
          count: 3,
          oldest: '2026-05-28T10:00:00.000Z',
          newest: '2026-05-28T12:30:00.000Z',
        });
        const [s, human] = await held(async () => [
          JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport,
          (await ok(['status'])).stdout,
        ]);
        expect(s.activeRun).not.toBeNull();
        if (pair.name.startsWith('duckdb')) expect(s.snapshot?.takenAt).toMatch(/^\d{4}-\d\d-\d\dT/);
        else expect(s.snapshot).toBeNull();
        expect(s.lastMonitor).toEqual(live.lastMonitor);
        expect(s.exceptions).toEqual(live.exceptions);
        expect(human).toMatch(/^last monitor: run 3, started .* UTC, success in \d+\.\d\d s, 0 findings$/m);
        expect(human).toMatch(/^\s+maintenance\s+success\s/m);
        expect(human).toMatch(/^\s+ARCHIVE_ROUTING_GAP\s+3\s+2026-05-28 10:00:00\s+2026-05-28 12:30:00$/m);
      });

      it('shows a table of a million rows or more by the planner estimate where counting reads it whole', async () => {
        const rows = 1_200_000;
        await warehouseSql(
          p,
          `insert into settlement_public.uni_tracking_spath_raw (id, _batch_id)
           select i, 99 from generate_series(1, ${rows}) as g(i)`,
        );
        const estimated = pair.name.startsWith('postgres');
        // What autovacuum would do in its own time: the estimate is then settled, not in flight.
        if (estimated) await warehouseSql(p, 'analyze settlement_public.uni_tracking_spath_raw');
        const s = JSON.parse((await ok(['status', '--json'])).stdout) as StatusReport;
        const [, , spath] = s.tables.raw;
        expect(spath?.estimated).toBe(estimated);
        if (estimated) {
          expect(spath?.rows).toBeGreaterThan(rows * 0.9);
          expect(spath?.rows).toBeLessThan(rows * 1.1);
        } else expect(spath?.rows).toBe(rows + 1);
        // The small tables are still counted.
        expect(s.tables.raw[0]).toMatchObject({ rows: 2, estimated: false });

        const out = (await ok(['status'])).stdout;
        const shown = `${estimated ? '~' : ''}${spath?.rows.toLocaleString('en-US')}`;
        expect(out).toMatch(new RegExp(`^\\s+settlement_public\\.uni_tracking_spath_raw\\s+${shown}$`, 'm'));
        expect(out.includes("~ the server's estimate, for tables of 1,000,000 rows or more")).toBe(estimated);
        expect(out).toMatch(/^\s+settlement_public\.uni_tracking_info_raw\s+2$/m);
      });

      it('without a source, reports id watermarks alone; a missing mart counts as absent', async () => {
        await warehouseSql(p, 'drop table if exists settlement_ods.mart_uni_tracking_spath');
        const r = await cli(['status', '--json'], { ...env(), ORDER_TRACKING_SOURCE: undefined });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const s = JSON.parse(r.stdout) as StatusReport;
        expect(s.source).toBeNull();
        expect(s.watermarks[1]).toMatchObject({ value: 2, sourceMax: null, idsBehind: null });
        expect(s.tables.marts[2]).toEqual({
          schema: 'settlement_ods',
          table: 'mart_uni_tracking_spath',
          exists: false,
          rows: 0,
          estimated: false,
        });
        const human = await cli(['status'], { ...env(), ORDER_TRACKING_SOURCE: undefined });
        expect(human.stdout).toMatch(/^\s+ecs_order_info\s+id\s+id 2\s+-$/m);
        expect(human.stdout).toMatch(/^\s+settlement_ods\.mart_uni_tracking_spath\s+absent$/m);
      });

      it('takes no lease: it reads while a run holds the pipeline and says so (DuckDB: from the last snapshot)', async () => {
        const settings = resolveSettings({ warehouse: p.warehouseUrl }, {});
        const holder = await openWarehouse(parseWarehouseUrl(p.warehouseUrl));
        try {
          const lease = await holder.tryLease(leaseKey(settings));
          expect(lease).not.toBeNull();
          const r = await ok(['status']);
          expect(r.stdout).toMatch(/^runs \(last 10\)$/m);
          expect(r.stdout.split('\n')[0]).toMatch(
            pair.name.startsWith('duckdb')
              ? new RegExp(
                  `^run active \\(pid ${process.pid}\\): the warehouse file is locked, showing the snapshot taken `,
                )
              : /^run active \(pid \d+, since .* UTC\)$/,
          );
          await lease?.release();
        } finally {
          await holder.close();
        }
      });
    });
  });
}
