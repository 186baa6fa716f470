/**
 * Timeouts that stop the work and retries of transient failures only (SPEC §7), through the real
 * CLI. A mart held behind another session's lock is cancelled on the server at its limit (nothing
 * of ours is left in pg_stat_activity), exits 124 and converges to the state of a run that was
 * never interrupted. Deadlocks, serialization failures, MySQL lock waits and a connection reset
 * run the task again (the ledger counts the attempts) and end right; any other error fails at once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { embeddedPair, serverPair, skipServers, type EnginePair } from '../support/engines.js';
import { diffSnapshots, snapshotBusiness } from '../support/invariants.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const bin = new URL('../../bin/order-tracking.mjs', import.meta.url).pathname;

const NOW = 1_780_000_000;
const HOUR = 3600;
const SCANS = 4_000;
const REMARK = 'r'.repeat(200);

const opened: EnginePair[] = [];
const proxies: TcpProxy[] = [];
const clients: pg.Client[] = [];
afterEach(async () => {
  for (let c = clients.pop(); c !== undefined; c = clients.pop()) await c.end().catch(() => undefined);
  for (let x = proxies.pop(); x !== undefined; x = proxies.pop()) await x.close();
  for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
});

const configFile = (settings: object): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'ot-resilience-')), 'order-tracking.json');
  writeFileSync(file, JSON.stringify(settings));
  return file;
};

const env = (p: EnginePair, extra: Record<string, string> = {}): Record<string, string> => ({
  ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
  ORDER_TRACKING_SOURCE: p.sourceUrl,
  ORDER_TRACKING_NOW: String(NOW),
  ...extra,
});

/** A fresh, initialised pair whose source holds an order, its tracking row and `SCANS` scans. */
const seeded = async (create: () => Promise<EnginePair>): Promise<EnginePair> => {
  const p = await create();
  opened.push(p);
  const init = await cli(['init'], env(p));
  expect(init.code, init.stderr).toBe(0);
  for (let from = 1; from <= SCANS; from += 500) {
    const ids = Array.from({ length: 500 }, (_, i) => from + i);
    await p.source(
      `insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values ${ids.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ids.flatMap((id) => [id, `OT${id % 7}`, id, NOW - HOUR, 'Zürich', 'ARRIVE', REMARK]),
    );
  }
  await p.source(
    'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
    [1, 'OT1', 'TN1', 'IN_TRANSIT', 'DHL', 'Köln', NOW - HOUR],
  );
  await p.source(
    'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
    [1, 'OT1', 7, 'Zoë', 'Lyon', 1200, NOW - 2 * HOUR],
  );
  return p;
};

const tasksOf = async (p: EnginePair, runId: number) =>
  p.warehouse(
    `select task, state, attempts, error from order_tracking_meta.task_instances where run_id = $1 order by task`,
    [runId],
  );

const count = async (p: EnginePair, table: string): Promise<number> =>
  Number((await p.warehouse(`select count(*) as n from settlement_ods.${table}`))[0]?.n);

const databaseOf = (p: EnginePair): string => new URL(p.warehouseUrl).pathname.slice(1);

describe.skipIf(await skipServers())('timeouts on postgres+mariadb', () => {
  it('cancels a mart held behind a lock at its limit, leaves no statement on the server, and converges', async () => {
    const p = await seeded(() => serverPair());
    const twin = await seeded(() => serverPair());
    // Another session holds mart_uti's table: our apply waits on the lock until its limit.
    const holder = new pg.Client({ connectionString: p.warehouseUrl });
    clients.push(holder);
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table settlement_ods.mart_uni_tracking_info in access exclusive mode');
    const config = configFile({ timeouts: { mart_uti: 3 } });
    const started = Date.now();
    const held = await cli(['run'], env(p, { ORDER_TRACKING_CONFIG: config }), { deadlineMs: 90_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(held.code, held.stderr).toBe(124);
    expect(held.stderr.trim()).toMatch(
      /^order-tracking: run 1 timed out: mart_uti timed out after 3 s \(its limit\) and was cancelled; what it was doing rolled back, the lease is released$/,
    );
    expect(seconds, 'the run outlived its limit by more than a few seconds').toBeLessThan(3 + 12);
    // The held statement was cancelled on the server, not abandoned there.
    const ours = await holder.query(
      `select pid, state, query from pg_stat_activity
        where datname = $1 and pid <> pg_backend_pid() and state <> 'idle'`,
      [databaseOf(p)],
    );
    expect(ours.rows).toEqual([]);
    expect(await tasksOf(p, 1)).toContainEqual({
      task: 'mart_uti',
      state: 'timed_out',
      attempts: 1,
      error: 'mart_uti timed out after 3 s (its limit) and was cancelled',
    });
    const [run] = await p.warehouse('select state from order_tracking_meta.runs where run_id = 1');
    expect(run?.state).toBe('timed_out');
    await holder.query('rollback');
    const next = await cli(['run'], env(p));
    expect(next.code, next.stderr).toBe(0);
    const straight = await cli(['run'], env(twin));
    expect(straight.code, straight.stderr).toBe(0);
    expect(diffSnapshots(await snapshotBusiness(twin), await snapshotBusiness(p))).toEqual([]);
  });
});

describe('timeouts on duckdb+sqlite', () => {
  it("stops the whole run at the cycle's own limit, naming the task it cut short", async () => {
    const p = await seeded(embeddedPair);
    const config = configFile({ timeouts: { cycle: 3 } });
    const slow = await cli(
      ['run'],
      env(p, { ORDER_TRACKING_CONFIG: config, ORDER_TRACKING_FAULT: 'slow:mart_uti:60' }),
      { deadlineMs: 90_000 },
    );
    expect(slow.code, slow.stderr).toBe(124);
    expect(slow.stderr.trim()).toBe(
      "order-tracking: run 1 timed out: mart_uti timed out after 3 s (the run's limit) and was cancelled; what it was doing rolled back, the lease is released",
    );
    const tasks = await tasksOf(p, 1);
    expect(tasks.filter((t) => String(t.task).startsWith('mart_')).map((t) => [t.task, t.state])).toEqual([
      ['mart_ecs', 'upstream_failed'],
      ['mart_uti', 'timed_out'],
      ['mart_uts', 'upstream_failed'],
    ]);
  });

  it('marks the task timed_out, exits 124 and the next run converges', async () => {
    const p = await seeded(embeddedPair);
    const config = configFile({ timeouts: { tests: 2 } });
    const slow = await cli(
      ['run'],
      env(p, { ORDER_TRACKING_CONFIG: config, ORDER_TRACKING_FAULT: 'slow:tests:60' }),
      {
        deadlineMs: 90_000,
      },
    );
    expect(slow.code, slow.stderr).toBe(124);
    expect(slow.stderr).toMatch(/tests timed out after 2 s \(its limit\) and was cancelled/);
    expect(await tasksOf(p, 1)).toContainEqual({
      task: 'tests',
      state: 'timed_out',
      attempts: 1,
      error: 'tests timed out after 2 s (its limit) and was cancelled',
    });
    const next = await cli(['run'], env(p));
    expect(next.code, next.stderr).toBe(0);
  });
});

describe.skipIf(await skipServers())('retries on postgres+mariadb', () => {
  for (const [task, code, what] of [
    ['mart_ecs', '40P01', 'a PostgreSQL deadlock'],
    ['mart_uti', '40001', 'a PostgreSQL serialization failure'],
    ['extract', '1213', 'a MySQL deadlock'],
    ['check_drift', '1205', 'a MySQL lock wait timeout'],
  ] as const)
    it(`runs ${task} again after ${what} (${code}) and ends right`, async () => {
      const p = await seeded(() => serverPair());
      const r = await cli(['run'], env(p, { ORDER_TRACKING_FAULT: `transient:${task}:${code}` }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/running the task again/);
      const tasks = await tasksOf(p, 1);
      expect(tasks.find((t) => t.task === task)).toMatchObject({ state: 'success', attempts: 2 });
      expect(tasks.filter((t) => t.task !== task).every((t) => t.attempts === 1)).toBe(true);
      const [scans] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_spath');
      expect(Number(scans?.n)).toBe(SCANS);
      const [uti] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_info');
      expect(Number(uti?.n)).toBe(1);
    });

  it('runs extract again after the source connection is reset mid-stream, and lands every scan once', async () => {
    const p = await seeded(() => serverPair());
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 3306 }, 200_000, 'reset', 1);
    proxies.push(proxy);
    const url = p.sourceUrl.replace(':3306/', `:${proxy.port}/`);
    const r = await cli(['run'], { ...env(p), ORDER_TRACKING_SOURCE: url, ORDER_TRACKING_BATCH_SIZE: '200' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/connection reset: running the task again/);
    expect((await tasksOf(p, 1)).find((t) => t.task === 'extract')).toMatchObject({
      state: 'success',
      attempts: 2,
    });
    const raw = await p.warehouse(
      'select count(*) as n, count(distinct id) as d from settlement_public.uni_tracking_spath_raw',
    );
    expect(raw[0]).toEqual({ n: SCANS, d: SCANS });
  });

  it('fails at once on any other error: no second attempt', async () => {
    const p = await seeded(() => serverPair());
    const r = await cli(['run'], env(p, { ORDER_TRACKING_FAULT: 'transient:mart_uti:22012' }));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/running the task again/);
    expect(r.stderr.trim()).toBe('order-tracking: run 1 failed in mart_uti: injected fault 22012');
    expect((await tasksOf(p, 1)).find((t) => t.task === 'mart_uti')).toMatchObject({
      state: 'failed',
      attempts: 1,
    });
  });
});

describe.skipIf(await skipServers())('a stop within the grace on postgres+mariadb', () => {
  it('lets the running task finish, starts nothing more, exits 143, and keeps what the task did', async () => {
    const p = await seeded(() => serverPair());
    const child = spawn(process.execPath, [bin, 'run'], {
      env: { ...process.env, ...env(p, { ORDER_TRACKING_FAULT: 'slow:mart_uti:4' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // validate has ended: mart_uti is the task running (held 4 s), well within the 20 s grace.
    for (;;) {
      const rows = await p.warehouse(
        `select 1 from order_tracking_meta.task_instances where run_id = 1 and task = 'validate'`,
      );
      if (rows.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(143);
    expect(stderr.trim()).toBe(
      'order-tracking: run 1 was interrupted (SIGTERM) before mart_ecs; it started nothing more, the lease is released',
    );
    const tasks = await tasksOf(p, 1);
    expect(tasks.filter((t) => String(t.task).startsWith('mart_')).map((t) => [t.task, t.state])).toEqual([
      ['mart_ecs', 'cancelled'],
      ['mart_uti', 'success'],
      ['mart_uts', 'cancelled'],
    ]);
    expect(await count(p, 'mart_uni_tracking_info')).toBe(1);
    const next = await cli(['run'], env(p));
    expect(next.code, next.stderr).toBe(0);
    expect(await count(p, 'mart_uni_tracking_spath')).toBe(SCANS);
  });
});
