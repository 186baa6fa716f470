/**
 * Readers (`status`, `exceptions list`, `sql`) through the real CLI on DuckDB + SQLite and
 * PostgreSQL + MariaDB: they take no lease and write nothing, so they work while a run is active
 * (on DuckDB, whose run holds the file, from the snapshot the last run left), on a read-only
 * DuckDB file, beside another reader, and on PostgreSQL as a SELECT-only role in read-only sessions.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExceptionRow } from '../../src/pipeline/exceptions.js';
import type { StatusReport } from '../../src/pipeline/status/types.js';
import { cli, type CliResult } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28 20:26:40 UTC
const HOUR = 3600;

interface ListJson {
  readonly total: number;
  readonly exceptions: ExceptionRow[];
  readonly snapshot: {
    readonly takenAt: string;
    readonly activeRun: { readonly pid: number | null };
    readonly rows: number;
    readonly ledgerRows: number;
  } | null;
}

/** The CLI as a reader without root's way past file modes (see `CliOptions.unprivileged`). */
const cliUnprivileged = (args: readonly string[], env: Record<string, string>): Promise<CliResult> =>
  cli(args, env, { unprivileged: true });

const ok = (r: CliResult): CliResult => {
  expect(r.stderr, r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};

const oneLine = (r: CliResult): string => {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0] ?? '';
};

/** Waits until a paused run has written its pid to the pause file; fails if the run ended instead. */
const pausedAt = async (file: string, run: { done: boolean; result?: CliResult }): Promise<number> => {
  for (let i = 0; i < 1200 && !run.done; i++) {
    if (existsSync(file)) {
      const pid = readFileSync(file, 'utf8');
      if (pid !== '') return Number(pid);
    }
    await sleep(100);
  }
  throw new Error(`the run never reached its pause point: ${run.result?.stderr ?? 'still running'}`);
};

for (const pair of pairs) {
  const duckdb = pair.name.startsWith('duckdb');
  describe.skipIf(await pair.skip())(`readers on ${pair.name}`, () => {
    let p: EnginePair;
    const env = (extra: Record<string, string> = {}) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(NOW),
      ...extra,
    });

    beforeEach(async () => {
      p = await pair.create();
      await p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)',
        [
          1,
          'OT1',
          'TN1',
          'IN_TRANSIT',
          'DHL',
          'Köln',
          NOW - 5 * HOUR,
          2,
          null,
          'TN2',
          'IN_TRANSIT',
          'DHL',
          'Lyon',
          NOW - 4 * HOUR,
        ],
      );
      await p.source(
        'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
        [1, 'OT1', 7, 'Zoë', 'Lyon', 1200, NOW - 6 * HOUR],
      );
      // A scan three days ahead of the clock: a FUTURE_TIMESTAMP exception beside the NULL_ORDER_ID.
      await p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)',
        [
          1,
          'OT1',
          1,
          NOW - 5 * HOUR,
          'Zürich',
          'ARRIVE',
          null,
          2,
          'OT1',
          2,
          NOW + 72 * HOUR,
          'Zürich',
          'DEPART',
          null,
        ],
      );
      ok(await cli(['init'], env()));
      ok(await cli(['run'], env()));
    });
    afterEach(async () => p.close());

    it('while a run is held mid-way, status and exceptions list exit 0, say a run is active and show what they can; resolve still exits 75', async () => {
      // Work for the second run, which pauses inside mart_uts's transaction holding its lease.
      await p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
        [3, 'OT1', 3, NOW - HOUR, 'Basel', 'ARRIVE', null],
      );
      const pauseFile = join(
        duckdb ? dirname(p.warehouseUrl.slice('duckdb:'.length)) : '/tmp',
        `ot-pause-${randomBytes(4).toString('hex')}`,
      );
      const run: { done: boolean; result?: CliResult } = { done: false };
      const running = cli(
        ['run'],
        env({ ORDER_TRACKING_FAULT: 'pause:during:mart_uts', ORDER_TRACKING_PAUSE_FILE: pauseFile }),
      ).then((r) => Object.assign(run, { done: true, result: r }));
      try {
        const runPid = await pausedAt(pauseFile, run);

        const human = ok(await cli(['status'], env())).stdout;
        const first = human.split('\n')[0] ?? '';
        if (duckdb)
          expect(first).toMatch(
            new RegExp(
              `^run active \\(pid ${runPid}\\): the warehouse file is locked, showing the snapshot taken \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`,
            ),
          );
        else expect(first).toMatch(/^run active \(pid \d+, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/);
        // The first run as it ended; live on PostgreSQL, the second shows as running.
        expect(human).toMatch(/^\s+1\s+run\s+success\s/m);
        if (duckdb) expect(human).not.toMatch(/^\s+2\s+run\s/m);
        else expect(human).toMatch(/^\s+2\s+run\s+running\s/m);
        // The snapshot holds the raw rows as the first run left them.
        if (duckdb) expect(human).toMatch(/^\s+settlement_public\.uni_tracking_spath_raw\s+2$/m);
        expect(human).toMatch(/^\s+NULL_ORDER_ID\s+1\s/m);
        expect(human).toMatch(/^\s+FUTURE_TIMESTAMP\s+1\s/m);

        const s = JSON.parse(ok(await cli(['status', '--json'], env())).stdout) as StatusReport;
        expect(s.activeRun?.pid).toEqual(expect.any(Number));
        if (duckdb) {
          expect(s.activeRun).toEqual({ pid: runPid, since: null });
          expect(s.snapshot?.takenAt).toMatch(/^\d{4}-\d\d-\d\dT/);
        } else {
          expect(s.snapshot).toBeNull();
          // The holder is the run's own lease session.
          const holder = await p.warehouse('select application_name from pg_stat_activity where pid = $1', [
            s.activeRun?.pid ?? 0,
          ]);
          expect(holder).toEqual([{ application_name: 'order-tracking' }]);
        }
        expect(s.runs.map((r) => [r.runId, r.state])).toEqual(
          duckdb
            ? [[1, 'success']]
            : [
                [2, 'running'],
                [1, 'success'],
              ],
        );
        expect(s.exceptions.open).toBe(2);

        const listed = ok(await cli(['exceptions', 'list', '--rows'], env()))
          .stdout.trim()
          .split('\n');
        if (duckdb) expect(listed[0]).toBe(first);
        expect(listed.filter((l) => /^\s*\d+\s+(NULL_ORDER_ID|FUTURE_TIMESTAMP)\s/.test(l))).toHaveLength(2);
        expect(listed.at(-1)).toBe('2 matching');

        // Filters apply to the snapshot's rows as to the ledger.
        const future = JSON.parse(
          ok(
            await cli(
              ['exceptions', 'list', '--rows', '--json', '--open', '--type', 'future_timestamp'],
              env(),
            ),
          ).stdout,
        ) as ListJson;
        expect(future.total).toBe(1);
        expect(future.exceptions).toEqual([
          expect.objectContaining({
            exception_type: 'FUTURE_TIMESTAMP',
            order_id: 'OT1',
            source_table: 'uni_tracking_spath',
            resolved_at: null,
          }),
        ]);
        if (duckdb)
          expect(future.snapshot).toMatchObject({ activeRun: { pid: runPid }, rows: 2, ledgerRows: 2 });
        else expect(future.snapshot).toBeNull();
        const none = ok(await cli(['exceptions', 'list', '--order', 'NOPE'], env())).stdout.trim();
        expect(none.split('\n').at(-1)).toBe('no exception matches --order NOPE');

        // Resolving writes: it waits for the lease like a run (unchanged).
        const id = String(future.exceptions[0]?.exception_id);
        const resolve = await cli(['exceptions', 'resolve', '--id', id], env());
        expect(oneLine(resolve)).toMatch(/^order-tracking: another order-tracking (run is active|process)/);
        expect(resolve.code).toBe(75);
      } finally {
        rmSync(pauseFile, { force: true });
        await running;
      }
      ok(run.result as CliResult);

      // The run over, status reads the warehouse again: no active run, the second run done.
      const after = JSON.parse(ok(await cli(['status', '--json'], env())).stdout) as StatusReport;
      expect(after).toMatchObject({ activeRun: null, snapshot: null });
      expect(after.runs.map((r) => [r.runId, r.state])).toEqual([
        [2, 'success'],
        [1, 'success'],
      ]);
      expect(ok(await cli(['status'], env())).stdout).toMatch(/^warehouse\s/);
    });

    // DuckDB's file lock and file modes; PostgreSQL's roles below: each case where it exists.
    if (duckdb)
      it('while a run holds DuckDB and no snapshot was written yet, status says so in one line and exits 75', async () => {
        const path = p.warehouseUrl.slice('duckdb:'.length);
        rmSync(`${path}.status.json`);
        const holder = await DuckDBInstance.create(path);
        try {
          for (const args of [['status'], ['exceptions', 'list']]) {
            const r = await cli(args, env());
            expect(oneLine(r)).toMatch(
              new RegExp(
                `^order-tracking: another order-tracking process \\(pid ${process.pid}\\) is using the warehouse duckdb:.* and no status snapshot was written yet to show instead \\(init and every run leave one\\); wait for it to finish$`,
              ),
            );
            expect(r.code).toBe(75);
            expect(r.stdout).toBe('');
          }
        } finally {
          holder.closeSync();
        }
      });

    if (duckdb)
      it('reads a read-only DuckDB file in a read-only directory, and beside another reader', async () => {
        const path = p.warehouseUrl.slice('duckdb:'.length);
        const dir = dirname(path);
        // The second reader first: a process holding the file read-only, as a long query would.
        const reader = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
        try {
          const beside = JSON.parse(ok(await cli(['status', '--json'], env())).stdout) as StatusReport;
          expect(beside).toMatchObject({ activeRun: null, snapshot: null });
          expect(beside.runs.map((r) => r.state)).toEqual(['success']);
        } finally {
          reader.closeSync();
        }

        chmodSync(path, 0o444);
        chmodSync(dir, 0o555);
        try {
          const roEnv = { ORDER_TRACKING_WAREHOUSE: p.warehouseUrl, ORDER_TRACKING_NOW: String(NOW) };
          const human = ok(await cliUnprivileged(['status'], roEnv)).stdout;
          expect(human).toMatch(/^warehouse\s+duckdb:/);
          expect(human).toMatch(/^\s+1\s+run\s+success\s/m);
          expect(human).toMatch(/^\s+settlement_public\.uni_tracking_info_raw\s+2$/m);
          expect(human).toMatch(/^\s+NULL_ORDER_ID\s+1\s/m);

          const s = JSON.parse(ok(await cliUnprivileged(['status', '--json'], roEnv)).stdout) as StatusReport;
          expect(s).toMatchObject({ activeRun: null, snapshot: null, exceptions: { open: 2 } });

          const listed = JSON.parse(
            ok(await cliUnprivileged(['exceptions', 'list', '--rows', '--json'], roEnv)).stdout,
          ) as ListJson;
          expect(listed.snapshot).toBeNull();
          expect(listed.exceptions.map((e) => e.exception_type).sort()).toEqual([
            'FUTURE_TIMESTAMP',
            'NULL_ORDER_ID',
          ]);

          const sql = ok(await cliUnprivileged(['sql', 'mart_uti'], roEnv)).stdout;
          expect(sql).toMatch(/insert into "settlement_ods"\."mart_uni_tracking_info"/);
        } finally {
          chmodSync(dir, 0o755);
          chmodSync(path, 0o644);
        }
      });

    if (!duckdb)
      it('work for a role that can only SELECT, whose sessions are read-only', async () => {
        const role = `ot_reader_${randomBytes(4).toString('hex')}`;
        const database = new URL(p.warehouseUrl).pathname.slice(1);
        const admin = new pg.Client({ connectionString: p.warehouseUrl });
        await admin.connect();
        try {
          await admin.query(`create role ${role} login`);
          await admin.query(`alter role ${role} set default_transaction_read_only = on`);
          for (const schema of ['settlement_public', 'settlement_ods', 'order_tracking_meta']) {
            await admin.query(`grant usage on schema ${schema} to ${role}`);
            await admin.query(`grant select on all tables in schema ${schema} to ${role}`);
          }
          const roEnv = env({ ORDER_TRACKING_WAREHOUSE: `postgres://${role}@127.0.0.1:5432/${database}` });

          const human = ok(await cli(['status'], roEnv)).stdout;
          expect(human).toMatch(/^\s+1\s+run\s+success\s/m);
          expect(human).toMatch(/^\s+settlement_public\.uni_tracking_info_raw\s+2$/m);
          expect(human).toMatch(/^\s+FUTURE_TIMESTAMP\s+1\s/m);
          const s = JSON.parse(ok(await cli(['status', '--json'], roEnv)).stdout) as StatusReport;
          expect(s).toMatchObject({ activeRun: null, exceptions: { open: 2 } });

          const listed = JSON.parse(
            ok(await cli(['exceptions', 'list', '--rows', '--json'], roEnv)).stdout,
          ) as ListJson;
          expect(listed.total).toBe(2);
          expect(ok(await cli(['sql', 'mart_uts'], roEnv)).stdout).toMatch(
            /insert into "settlement_ods"\."mart_uni_tracking_spath"/,
          );

          // The role really cannot write: resolving is refused by the server, naming why.
          const resolve = await cli(['exceptions', 'resolve', '--type', 'NULL_ORDER_ID'], roEnv);
          expect(oneLine(resolve)).toMatch(/read-only transaction|permission denied/);
          expect(resolve.code).toBe(1);
        } finally {
          await admin.query(`drop owned by ${role}`).catch(() => undefined);
          await admin.query(`drop role if exists ${role}`).catch(() => undefined);
          await admin.end();
        }
      });
  });
}
