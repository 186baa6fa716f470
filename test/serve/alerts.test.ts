/**
 * serve's webhook alerts (SPEC §7), on DuckDB + SQLite and on PostgreSQL + MariaDB: real runs of the
 * CLI make the causes (a frozen archive period's ARCHIVE_ROUTING_GAP exceptions, a failing data
 * test, a DQ check, a failed validate), the alerter looks at each run as serve would, and a local
 * receiver records what is POSTed: one alert when a cause opens, none while it persists, one when
 * it clears; a webhook that fails never fails the run; nothing secret is ever sent.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings, type Settings } from '../../src/config/settings.js';
import { openWarehouse } from '../../src/engines/warehouse/open.js';
import { withConnection, type Warehouse } from '../../src/engines/warehouse/warehouse.js';
import type { RunSummary } from '../../src/runner/run-cycle.js';
import { createAlerter, type Alert, type Alerter } from '../../src/serve/alerts.js';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
import { startWebhookServer, type ReceivedPost, type WebhookServer } from '../support/webhook-server.js';

const NOW = 1_780_000_000; // 2026-05-28
const HOUR = 3_600;
const DAY = 86_400;

/** The alerts of some POSTs as (cause, state), sorted: what opened and cleared. */
const causes = (posts: readonly ReceivedPost[]): string[] =>
  posts.map((p) => `${(p.json as Alert).cause} ${(p.json as Alert).state}`).sort();

for (const pair of pairs) {
  describe.skipIf(await pair.skip())(`serve alerts on ${pair.name}`, () => {
    let p: EnginePair;
    let hook: WebhookServer;
    let settings: Settings;
    let env: Record<string, string>;
    let logLines: Record<string, unknown>[];
    let log: pino.Logger;
    // Secrets of this pipeline that must never reach the webhook.
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const dashboardToken = `dash-${randomBytes(12).toString('hex')}`;
    const hookToken = randomBytes(18).toString('hex');
    const hookPath = `/services/T0ALERTS/B0ALERTS/${hookToken}`;

    beforeEach(async () => {
      p = await pair.create();
      hook = await startWebhookServer();
      // On PostgreSQL the URL carries a password (the test server trusts 127.0.0.1, so any works).
      const warehouseUrl = p.warehouseUrl.replace('postgres://postgres@', `postgres://postgres:${password}@`);
      env = {
        ORDER_TRACKING_WAREHOUSE: warehouseUrl,
        ORDER_TRACKING_SOURCE: p.sourceUrl,
        ORDER_TRACKING_ALERT_WEBHOOK: hook.url(hookPath),
        ORDER_TRACKING_DASHBOARD_TOKEN: dashboardToken,
      };
      settings = resolveSettings({}, env);
      logLines = [];
      log = pino(
        { level: 'info', base: undefined },
        { write: (line: string) => logLines.push(JSON.parse(line)) },
      );
      expect((await cli(['init'], env)).code).toBe(0);
    });
    afterEach(async () => {
      await hook.close();
      await p.close();
    });

    /** The warehouse open in this process for `fn` only: DuckDB's file is then free for the CLI. */
    const withWarehouse = async <T>(fn: (w: Warehouse) => Promise<T>): Promise<T> => {
      const w = await openWarehouse(settings.warehouse, { settings });
      try {
        return await fn(w);
      } finally {
        await w.close();
      }
    };

    /** The ledger's summary of the latest run, as serve's runner returns it. */
    const latestSummary = (w: Warehouse): Promise<RunSummary> =>
      withConnection(w, async (c) => {
        const [row] = await c.query(
          'select summary from order_tracking_meta.runs order by run_id desc limit 1',
        );
        return JSON.parse(String(row?.summary)) as RunSummary;
      });

    /** One CLI command at `now`, then the alerter's look at the run it recorded; the POSTs it made. */
    const step = async (
      alerter: Alerter,
      args: string[],
      now: number,
      extra: Record<string, string> = {},
    ) => {
      const r = await cli(args, { ...env, ORDER_TRACKING_NOW: String(now), ...extra });
      const summary = await withWarehouse(async (w) => {
        const s = await latestSummary(w);
        await alerter.afterRun(s, w, settings);
        return s;
      });
      return { code: r.code, stderr: r.stderr, summary, posts: hook.take() };
    };

    let nextId = 1;
    const order = async (
      orderId: string,
      o: { readonly uti?: number; readonly ecs?: number; readonly scans?: readonly number[] },
    ) => {
      const id = nextId++;
      if (o.uti !== undefined)
        await p.source(
          'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
          [id, orderId, `TN${id}`, 'IN_TRANSIT', 'DHL', 'Lyon', o.uti],
        );
      if (o.ecs !== undefined)
        await p.source(
          'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
          [id, orderId, 7, 'Ada', 'Lyon', 1200, o.ecs],
        );
      for (const [i, pathTime] of (o.scans ?? []).entries())
        await p.source(
          'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
          [id * 100 + i, orderId, i + 1, pathTime, 'Lyon', 'ARRIVE', null],
        );
    };

    /** Nothing secret in any body, and every body a Slack-compatible JSON POST to the webhook. */
    const expectClean = (posts: readonly ReceivedPost[], displayUrl: string) => {
      for (const post of posts) {
        expect(post.path).toBe(hookPath);
        expect(post.headers['content-type']).toBe('application/json');
        const alert = post.json as Alert;
        expect(alert.text).toEqual(expect.stringContaining(alert.detail));
        expect(alert.warehouse).toBe(displayUrl);
        expect(alert.pipeline).toBe('order_tracking_meta');
        for (const secret of [password, dashboardToken, hookToken, hookPath])
          expect(post.raw).not.toContain(secret);
      }
    };

    it('alerts once when each cause opens, never while it persists, once when it clears', async () => {
      nextId = 1;
      const alerter = createAlerter({ webhook: settings.alertWebhook, log });
      const frozen = { ORDER_TRACKING_FROZEN_PERIODS: '2025_h2' };
      // OT-OLD ages out into 2025_h2, frozen: it stays in mart_uti and mart_uts under open
      // ARCHIVE_ROUTING_GAP / _UTS exceptions. OT-ORPHAN-1 has a scan and no tracking row: the
      // relationship data test warns, and the monitor's alignment check opens a DQ exception.
      await order('OT-OLD', { uti: NOW - 200 * DAY, ecs: NOW - 200 * DAY, scans: [NOW - 200 * DAY] });
      await order('OT-NEW', { uti: NOW - HOUR, ecs: NOW - 3 * DAY, scans: [NOW - HOUR] });
      await order('OT-ORPHAN-1', { scans: [NOW - HOUR] });

      const first = await step(alerter, ['run'], NOW, frozen);
      expect(first.stderr).not.toMatch(/order-tracking:/);
      expect(first.code).toBe(0);
      expect(causes(first.posts)).toEqual([
        'exception:ARCHIVE_ROUTING_GAP open',
        'exception:ARCHIVE_ROUTING_GAP_UTS open',
        'test:relationship_mart_uts_mart_uti open',
      ]);
      const displayUrl = await withWarehouse(async (w) => w.displayUrl);
      if (pair.name.startsWith('postgres')) expect(displayUrl).toContain('postgres:***@');
      const gap = first.posts.find((post) => (post.json as Alert).cause === 'exception:ARCHIVE_ROUTING_GAP');
      expect(gap?.json).toMatchObject({
        state: 'open',
        kind: 'exception',
        runId: first.summary.runId,
        runKind: 'run',
        detail: expect.stringMatching(/^1 open ARCHIVE_ROUTING_GAP exception /),
      });
      expect((gap?.json as Alert).text).toMatch(
        /^order-tracking alert \(order_tracking_meta on .+\): 1 open/,
      );

      const dq = await step(alerter, ['monitor', '--only', 'dq'], NOW + 60);
      expect(dq.summary.kind).toBe('monitor');
      expect(dq.summary.state).toBe('success');
      expect(causes(dq.posts)).toEqual(['exception:DQ_UTI_UTS_ALIGNMENT open']);

      // A run that fails (validate catches a lost row): one alert for the run; its tests did not run,
      // the exceptions are the same: nothing else.
      await order('OT-ORPHAN-2', { scans: [NOW + 600] });
      const failed = await step(alerter, ['run'], NOW + 900, {
        ...frozen,
        ORDER_TRACKING_FAULT: 'lose-row:extract',
      });
      expect(failed.code).not.toBe(0);
      expect(failed.summary.state).toBe('failed');
      expect(causes(failed.posts)).toEqual(['run:run open']);
      expect((failed.posts[0]?.json as Alert).detail).toMatch(
        new RegExp(`^run run ${failed.summary.runId} failed: .+`),
      );

      // The next run succeeds: the run's cause clears; the test fails again and the gaps persist.
      await order('OT-ORPHAN-3', { scans: [NOW + 1500] });
      const recovered = await step(alerter, ['run'], NOW + 1800, frozen);
      expect(recovered.code).toBe(0);
      expect(causes(recovered.posts)).toEqual(['run:run cleared']);
      expect(
        await withWarehouse((w) =>
          withConnection(w, (c) =>
            c.query('select count(*) as n from order_tracking_meta.test_failures where run_id = $1', [
              recovered.summary.runId,
            ]),
          ),
        ),
      ).toEqual([{ n: 2 }]); // OT-ORPHAN-2, read again after the failed run, and OT-ORPHAN-3
      expect(alerter.openCauses().map((c) => c.cause)).toEqual([
        'test:relationship_mart_uts_mart_uti',
        'exception:ARCHIVE_ROUTING_GAP',
        'exception:ARCHIVE_ROUTING_GAP_UTS',
        'exception:DQ_UTI_UTS_ALIGNMENT',
      ]);

      // Release the period, resolve the gaps, give the orphans their tracking and ecs rows: the
      // next run archives OT-OLD and its tests pass.
      for (const type of ['ARCHIVE_ROUTING_GAP', 'ARCHIVE_ROUTING_GAP_UTS'])
        expect((await cli(['exceptions', 'resolve', '--type', type], env)).code).toBe(0);
      for (const orphan of ['OT-ORPHAN-1', 'OT-ORPHAN-2', 'OT-ORPHAN-3'])
        await order(orphan, { uti: NOW + 2000, ecs: NOW + 2000 });
      await order('OT-NEW-2', { uti: NOW + 2000, ecs: NOW + 2000, scans: [NOW + 2000] });
      const released = await step(alerter, ['run'], NOW + 2700);
      expect(released.code).toBe(0);
      expect(causes(released.posts)).toEqual([
        'exception:ARCHIVE_ROUTING_GAP cleared',
        'exception:ARCHIVE_ROUTING_GAP_UTS cleared',
        'test:relationship_mart_uts_mart_uti cleared',
      ]);

      const dqAgain = await step(alerter, ['monitor', '--only', 'dq'], NOW + 2760);
      expect(causes(dqAgain.posts)).toEqual(['exception:DQ_UTI_UTS_ALIGNMENT cleared']);

      const quiet = await step(alerter, ['run'], NOW + 3600);
      expect(quiet.code).toBe(0);
      expect(quiet.posts).toEqual([]);
      expect(alerter.openCauses()).toEqual([]);

      expectClean(hook.received, displayUrl);
      expect(hook.received).toHaveLength(10);
    });

    it('alerts once per run kind that fails or times out, not for a cancelled run, and masks secrets', async () => {
      const alerter = createAlerter({ webhook: settings.alertWebhook, log });
      const summary = (kind: RunSummary['kind'], state: RunSummary['state'], error?: string): RunSummary => ({
        runId: 40,
        kind,
        state,
        trigger: 'schedule',
        seconds: 3,
        tasks: [],
        ...(error ? { error } : {}),
      });
      // An error line a driver might write: the URL with its password, the webhook, the token.
      const leaky = `dq timed out after 5 s on ${env.ORDER_TRACKING_WAREHOUSE} (hook ${env.ORDER_TRACKING_ALERT_WEBHOOK}, token ${dashboardToken})\n    at Connection.query (${password})`;
      const look = async (s: RunSummary) => {
        await withWarehouse((w) => alerter.afterRun(s, w, settings));
        return hook.take();
      };

      const timedOut = await look(summary('monitor', 'timed_out', leaky));
      expect(causes(timedOut)).toEqual(['run:monitor open']);
      const alert = timedOut[0]?.json as Alert;
      expect(alert.detail).toMatch(/^monitor run 40 timed out: dq timed out after 5 s on /);
      expect(alert.detail).toContain('***');
      expect(alert.detail).not.toMatch(/Connection\.query/); // the first line only
      expect(await look(summary('monitor', 'timed_out', leaky))).toEqual([]);
      expect(causes(await look(summary('run', 'failed', 'extract failed: connection reset')))).toEqual([
        'run:run open',
      ]);
      // A stop by SIGTERM neither alerts nor clears.
      expect(await look(summary('monitor', 'cancelled', 'run 40 was interrupted (SIGTERM)'))).toEqual([]);
      const cleared = await look(summary('monitor', 'success'));
      expect(causes(cleared)).toEqual(['run:monitor cleared']);
      expect((cleared[0]?.json as Alert).text).toMatch(
        /^order-tracking cleared \(.+\): monitor run 40 succeeded$/,
      );
      expect(alerter.openCauses().map((c) => c.cause)).toEqual(['run:run']);

      const displayUrl = await withWarehouse(async (w) => w.displayUrl);
      expectClean(hook.received, displayUrl);
      // Nor does the log say where the webhook is.
      expect(JSON.stringify(logLines)).not.toContain(hookToken);
    });

    it('logs a webhook that fails and never fails the run: one retry, then the next run tries again', async () => {
      const alerter = createAlerter({
        webhook: settings.alertWebhook,
        log,
        timeoutMs: 300,
        retryDelayMs: 20,
      });
      const failed = (runId: number): RunSummary => ({
        runId,
        kind: 'run',
        state: 'failed',
        trigger: 'schedule',
        seconds: 1,
        tasks: [],
        error: 'extract failed',
      });
      const look = (s: RunSummary) => withWarehouse((w) => alerter.afterRun(s, w, settings));
      const warnings = () => logLines.filter((l) => l.level === 40);

      hook.answer(500);
      await expect(look(failed(1))).resolves.toBeUndefined();
      expect(hook.take()).toHaveLength(2); // the POST and its one retry
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatchObject({
        cause: 'run:run',
        attempts: 2,
        error: 'the webhook answered HTTP 500',
      });

      // The webhook is back: the cause, still open, is announced once.
      hook.answer(200);
      await look(failed(2));
      expect(causes(hook.take())).toEqual(['run:run open']);
      await look(failed(3));
      expect(hook.take()).toEqual([]);

      // A webhook that never answers is given up after the timeout, twice, and the run goes on.
      hook.answer('hang');
      const started = performance.now();
      await look({ ...failed(4), state: 'success' });
      expect(performance.now() - started).toBeLessThan(4_000);
      expect(hook.take()).toHaveLength(2);
      expect(warnings().at(-1)).toMatchObject({ cause: 'run:run', attempts: 2 });
      expect(String(warnings().at(-1)?.error)).toMatch(/timeout|aborted/i);

      // A 4xx will not change on a retry: one attempt; the clear goes out once the webhook takes it.
      hook.answer(404);
      await look({ ...failed(5), state: 'success' });
      expect(hook.take()).toHaveLength(1);
      hook.answer(200);
      await look({ ...failed(6), state: 'success' });
      expect(causes(hook.take())).toEqual(['run:run cleared']);
      await look({ ...failed(7), state: 'success' });
      expect(hook.take()).toEqual([]);

      const logged = JSON.stringify(logLines);
      expect(logged).not.toContain(hookToken);
      expect(logged).not.toContain(hookPath);
    });
  });
}
