/**
 * `order-tracking serve` (SPEC §7) as an operator runs it: the real CLI in a child process on a
 * seconds cron, on both stacks. It runs cycles on schedule, records a slot that comes while a slow
 * cycle still runs as `skipped` (never queued), stops on SIGTERM within the grace with exit 0 and
 * the lease released, refuses a bad cron or a public address without a token before starting, and
 * answers /healthz, /readyz and /metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
import { seedOneOrder } from '../support/feed.js';
import { periodOf } from '../support/invariants.js';
import { startServe, until, type Served } from '../support/serve-process.js';
import { startWebhookServer, type WebhookServer } from '../support/webhook-server.js';

const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);

const hooks: WebhookServer[] = [];
const opened: EnginePair[] = [];
afterEach(async () => {
  for (let h = hooks.pop(); h !== undefined; h = hooks.pop()) await h.close();
  for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
});

const env = (p: EnginePair, extra: Record<string, string> = {}): Record<string, string> => ({
  ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
  ORDER_TRACKING_SOURCE: p.sourceUrl,
  ORDER_TRACKING_MONITOR_CRON: '0 0 2 1 1 *',
  ...extra,
});

interface LedgerRun {
  readonly run_id: number;
  readonly kind: string;
  readonly state: string;
  readonly triggered_by: string;
  readonly error: string | null;
}

/** The run ledger, read from outside; on DuckDB through `status --json` (serve holds the file). */
const ledger = async (p: EnginePair): Promise<LedgerRun[]> =>
  p.name === 'duckdb+sqlite'
    ? []
    : ((await p.warehouse(
        'select run_id, kind, state, triggered_by, error from order_tracking_meta.runs order by run_id',
      )) as unknown as LedgerRun[]);

/** The ledger through serve's own dashboard API on DuckDB (only serve may open the file). */
const runsOf = async (p: EnginePair, served: Served): Promise<LedgerRun[]> => {
  if (p.name !== 'duckdb+sqlite') return ledger(p);
  const response = await fetch(`${await served.url}/api/runs?limit=100`);
  const body = (await response.json()) as { runs: Record<string, unknown>[] };
  return body.runs
    .map((r) => ({
      run_id: Number(r.runId ?? r.run_id),
      kind: String(r.kind),
      state: String(r.state),
      triggered_by: String(r.trigger ?? r.triggeredBy ?? r.triggered_by),
      error: (r.error ?? null) as string | null,
    }))
    .sort((a, b) => a.run_id - b.run_id);
};

for (const pair of pairs)
  describe.skipIf(await pair.skip())(`serve on ${pair.name}`, () => {
    it('runs cycles on a seconds cron, skips a slot a slow cycle still holds, and stops on SIGTERM with exit 0', async () => {
      const p = await pair.create();
      opened.push(p);
      await seedOneOrder(p, NOW);
      // Every cycle's mart_uts waits 3 s: slots every 2 s come while one still runs.
      const served = startServe(
        env(p, { ORDER_TRACKING_CYCLE_CRON: '*/2 * * * * *', ORDER_TRACKING_FAULT: 'slow:mart_uts:3' }),
      );
      const url = await served.url;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const runs = await until(
        '3 scheduled cycles and a skipped slot',
        () => runsOf(p, served),
        (rs) =>
          rs.filter((r) => r.state === 'success' && r.kind === 'run').length >= 3 &&
          rs.some((r) => r.state === 'skipped'),
      );
      for (const r of runs) expect(r.triggered_by).toBe('schedule');
      const skipped = runs.find((r) => r.state === 'skipped');
      expect(skipped?.error).toMatch(/^slot \S+ skipped: run started \S+ is still running$/);
      // Never queued: no two runs overlap, so no run follows a skip at once with a backlog.
      expect(runs.filter((r) => r.state === 'running').length).toBeLessThanOrEqual(1);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status, await ready.clone().text()).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^order_tracking_task_duration_seconds_bucket\{/m);
      for (const line of metrics.split('\n').filter((l) => l && !l.startsWith('#')))
        expect(line).toMatch(/^order_tracking_/);

      // status names the running serve, its URL and the schedule's next slots.
      const shown = await cli(['status'], env(p, { ORDER_TRACKING_CYCLE_CRON: '*/2 * * * * *' }));
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(
        new RegExp(`^serve +${url.replaceAll('.', '\\.')} \\(pid ${served.child.pid}, `, 'm'),
      );
      expect(shown.stdout).toMatch(/^schedule +cycle "\*\/2 \* \* \* \* \*" next /m);
      if (p.name === 'duckdb+sqlite') expect(shown.stdout).toMatch(/^serve holds the warehouse \(pid \d+\)/);

      served.child.kill('SIGTERM');
      const exit = await served.exited;
      expect(exit, served.stderr).toEqual({ code: 0, signal: null });
      expect(served.stdout).toMatch(/order-tracking serve: stopped/);
      // The lease is released and the ledger shows nothing running: the next run goes ahead.
      const after = await cli(['run'], env(p));
      expect(after.code, after.stderr).toBe(0);
      const status = JSON.parse((await cli(['status', '--json'], env(p))).stdout) as {
        runs: { state: string }[];
      };
      expect(status.runs.filter((r) => r.state === 'running')).toEqual([]);
      const [mart] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_spath');
      expect(Number(mart?.n)).toBe(1);
    });

    it('cancels a running cycle on SIGTERM once the grace is over, rolls it back, and exits 0', async () => {
      const p = await pair.create();
      opened.push(p);
      await seedOneOrder(p, NOW);
      const served = startServe(
        env(p, {
          ORDER_TRACKING_CYCLE_CRON: '*/2 * * * * *',
          ORDER_TRACKING_FAULT: 'slow:mart_uti:60',
          ORDER_TRACKING_STOP_GRACE_SECONDS: '1',
        }),
      );
      await served.url;
      // The first slot comes within 2 s; 6 s later its cycle waits in mart_uti (held 60 s).
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const stopAt = Date.now();
      served.child.kill('SIGTERM');
      const exit = await served.exited;
      expect(exit, served.stderr).toEqual({ code: 0, signal: null });
      expect(Date.now() - stopAt, 'serve outlived its grace').toBeLessThan(15_000);
      const status = JSON.parse((await cli(['status', '--json'], env(p))).stdout) as {
        runs: { runId: number; state: string; error: string | null }[];
      };
      const cancelled = status.runs.find((r) => r.state === 'cancelled');
      expect(cancelled?.error).toMatch(/interrupted \(SIGTERM\) during mart_uti/);
      const [uti] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_info');
      expect(Number(uti?.n), 'mart_uti rows kept from the cancelled task').toBe(0);
      const again = await cli(['run'], env(p));
      expect(again.code, again.stderr).toBe(0);
      const [after] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_info');
      expect(Number(after?.n)).toBe(1);
    });
  });

describe('serve when the cycle and the monitor share a slot', () => {
  it('runs the monitor after the cycle instead of skipping it (02:00 with the defaults)', async () => {
    const p = await pairs[0].create();
    opened.push(p);
    await seedOneOrder(p, NOW);
    const served = startServe({
      ...env(p),
      ORDER_TRACKING_CYCLE_CRON: '*/4 * * * * *',
      ORDER_TRACKING_MONITOR_CRON: '*/4 * * * * *',
    });
    await served.url;
    const runs = await until(
      'two scheduled monitor runs',
      () => runsOf(p, served),
      (rs) => rs.filter((r) => r.kind === 'monitor' && r.state === 'success').length >= 2,
    );
    expect(runs.filter((r) => r.kind === 'monitor' && r.state === 'skipped')).toEqual([]);
    served.child.kill('SIGTERM');
    expect((await served.exited).code, served.stderr).toBe(0);
  });
});

for (const pair of pairs)
  describe.skipIf(await pair.skip())(`serve's alerts on ${pair.name}`, () => {
    it('posts one alert per cause to the webhook as it opens, none while it persists, with no secret', async () => {
      const p = await pair.create();
      opened.push(p);
      await seedOneOrder(p, NOW);
      // An order that ages out into a frozen half-year: it stays in its marts under open
      // ARCHIVE_ROUTING_GAP exceptions, every cycle.
      const old = NOW - 200 * DAY;
      await p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [2, 'OT-OLD', 'TN2', 'DELIVERED', 'DHL', 'Lyon', old],
      );
      const hook = await startWebhookServer();
      hooks.push(hook);
      const token = 'dashboard-token-not-for-webhooks';
      const served = startServe(
        env(p, {
          ORDER_TRACKING_CYCLE_CRON: '*/2 * * * * *',
          ORDER_TRACKING_FROZEN_PERIODS: periodOf(old),
          ORDER_TRACKING_ALERT_WEBHOOK: hook.url('/services/T0/B0/hook-secret-path'),
          ORDER_TRACKING_DASHBOARD_TOKEN: token,
        }),
      );
      await served.url;
      await until(
        '3 cycles',
        () => runsOf(p, served),
        (rs) => rs.filter((r) => r.state === 'success').length >= 3,
      );
      served.child.kill('SIGTERM');
      expect((await served.exited).code, served.stderr).toBe(0);
      const alerts = hook.received.map((post) => post.json as { cause: string; state: string; text: string });
      expect(alerts.map((a) => [a.cause, a.state])).toEqual([['exception:ARCHIVE_ROUTING_GAP', 'open']]);
      expect(alerts[0]?.text).toMatch(/ARCHIVE_ROUTING_GAP/);
      for (const post of hook.received) {
        expect(post.raw).not.toContain(token);
        expect(post.raw).not.toContain('hook-secret-path');
      }
      // The webhook's path is its credential: never in serve's own output either.
      expect(served.stdout + served.stderr).not.toContain('hook-secret-path');
    });
  });

describe('serve refuses a bad configuration before it starts', () => {
  it('exits 2 naming a bad cron expression', async () => {
    const r = await cli(['serve', '--port', '0'], {
      ORDER_TRACKING_WAREHOUSE: 'duckdb::memory:',
      ORDER_TRACKING_CYCLE_CRON: '*/15 * * *',
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^order-tracking: ORDER_TRACKING_CYCLE_CRON "\*\/15 \* \* \*" is not a cron expression/,
    );
  });

  it('exits 2 when the dashboard would listen beyond loopback without a token', async () => {
    const r = await cli(['serve', '--host', '0.0.0.0', '--port', '0'], {
      ORDER_TRACKING_WAREHOUSE: 'duckdb::memory:',
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'order-tracking: serve: the dashboard would listen on 0.0.0.0 without a token: set ORDER_TRACKING_DASHBOARD_TOKEN or bind to 127.0.0.1',
    );
  });
});
