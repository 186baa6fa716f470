/**
 * The dashboard of `order-tracking serve` (SPEC §7) in a real browser, on both stacks: the real CLI
 * serves it on a seconds cron over a warehouse that holds months of generated orders, held rows of
 * a frozen period (ARCHIVE_ROUTING_GAP) and NULL order ids. The test waits for a scheduled cycle,
 * finds it in the runs table, sees the charts drawn, resolves an exception through the page (a
 * wrong token first, then the right one) and checks the warehouse itself; writes without the token,
 * or with a wrong one, are refused and change nothing; no page or response holds a secret. A
 * full-page screenshot of each page is saved under test-results/.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, paintedPixels, skipBrowser } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
import { openFeed } from '../support/feed.js';
import { periodOf } from '../support/invariants.js';
import { startServe as startServeWith, until } from '../support/serve-process.js';

/** The real `serve` on a free port of the loopback address. */
const startServe = (vars: Record<string, string>) => startServeWith(vars, ['--host', '127.0.0.1']);
const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);

/** Rows 200 days old are past the 180-day cutoff: freezing their period holds them in the marts. */
const FROZEN = periodOf(NOW - 200 * DAY);

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const WEBHOOK_SECRET = `hook-${randomBytes(12).toString('hex')}`;
/** Port 9 (discard) refuses: alerts fail quietly, and their URL is a secret all the same. */
const WEBHOOK = `http://127.0.0.1:9/services/${WEBHOOK_SECRET}`;
const PASSWORD = `pw${randomBytes(10).toString('hex')}`;
const NOTE = 'checked by on-call: the period stays frozen';

interface ApiRun {
  readonly runId: number;
  readonly kind: string;
  readonly state: string;
  readonly triggeredBy: string | null;
}

const getJson = async <T>(url: string): Promise<T> => {
  const response = await fetch(url);
  expect(response.status, `${url}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
};

const resolvePost = (url: string, body: unknown, token?: string) =>
  fetch(`${url}/api/exceptions/resolve`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

/** Waits until the view `name` has rendered (the router marks `#view` when it has). */
const shown = async (page: Page, name: string): Promise<void> => {
  await page.waitForFunction(
    (view) => {
      const main = document.querySelector('#view') as HTMLElement | null;
      return main?.dataset.view === view && main.dataset.loaded !== undefined;
    },
    name,
    { timeout: 20_000 },
  );
};

const goTo = async (page: Page, url: string, hash: string, view: string): Promise<void> => {
  await page.evaluate(() => delete (document.querySelector('#view') as HTMLElement).dataset.loaded);
  await page.goto(`${url}/${hash}`);
  await shown(page, view);
};

for (const pair of pairs)
  describe.skipIf((await pair.skip()) || skipBrowser())(`dashboard on ${pair.name}`, () => {
    let p: EnginePair;
    let warehouseUrl: string;
    let browser: Browser;
    const slug = pair.name.replace(/[^a-z0-9]+/g, '-');
    const shot = (page: Page, name: string, fullPage = true) =>
      page.screenshot({ path: `${shots}dashboard-${slug}-${name}.png`, fullPage });
    const env = (extra: Record<string, string> = {}): Record<string, string> => ({
      ORDER_TRACKING_WAREHOUSE: warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_FROZEN_PERIODS: FROZEN,
      ...extra,
    });
    const serveEnv = (extra: Record<string, string> = {}) =>
      env({
        ORDER_TRACKING_CYCLE_CRON: '*/3 * * * * *',
        // Not during the test: its results come from the monitor run below.
        ORDER_TRACKING_MONITOR_CRON: '0 0 2 1 1 *',
        ORDER_TRACKING_ALERT_WEBHOOK: WEBHOOK,
        ...extra,
      });

    beforeAll(async () => {
      mkdirSync(shots, { recursive: true });
      p = await pair.create();
      // PostgreSQL trusts local sessions here: a password in the URL is accepted, and must never show.
      warehouseUrl = p.warehouseUrl.replace(/^postgres:\/\/postgres@/, `postgres://postgres:${PASSWORD}@`);
      const feed = await openFeed(p, {
        seed: 11,
        start: NOW - 400 * DAY,
        days: 400,
        ordersPerDay: 3,
        scansPerUpdate: 1.5,
        rates: { nullOrderId: 0.01 },
      });
      await feed.advanceTo(NOW - 3_600);
      await feed.close();
      for (const args of [['init'], ['run'], ['monitor']]) {
        const done = await cli(args, env());
        expect(done.code, `${args.join(' ')}: ${done.stderr}`).toBe(0);
      }
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await p?.close();
    });

    it('shows a scheduled cycle, draws the charts, and resolves an exception only with the token', async () => {
      const served = startServe(serveEnv({ ORDER_TRACKING_DASHBOARD_TOKEN: TOKEN }));
      const url = await served.url;
      const scheduled = await until(
        'a scheduled cycle that succeeded',
        async () => (await getJson<{ runs: ApiRun[] }>(`${url}/api/runs?limit=20`)).runs,
        (runs) => runs.some((r) => r.kind === 'run' && r.triggeredBy === 'schedule' && r.state === 'success'),
      ).then((runs) =>
        runs.find((r) => r.kind === 'run' && r.triggeredBy === 'schedule' && r.state === 'success'),
      );
      if (!scheduled) throw new Error('no scheduled cycle');

      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const bodies: string[] = [];
      const consoleErrors: string[] = [];
      page.on('response', (response) => {
        void response
          .text()
          .then((text) => bodies.push(`${JSON.stringify(response.headers())}\n${text}`))
          .catch(() => undefined);
      });
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(e.message));

      // Overview: healthy, the charts drawn.
      const first = await page.goto(`${url}/#/overview`);
      const headers = first?.headers() ?? {};
      expect(headers['content-security-policy']).toMatch(/^default-src 'self'/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      await shown(page, 'overview');
      await page.waitForSelector('#banner[data-health="healthy"]');
      for (const id of ['chart-timeline', 'chart-duration', 'chart-rows']) {
        await page.waitForFunction((canvas) => {
          const chart = (window as unknown as { Chart: { getChart(id: string): unknown } }).Chart.getChart(
            canvas,
          ) as { data: { datasets: { data: unknown[] }[] } } | undefined;
          return (chart?.data.datasets[0]?.data.length ?? 0) > 0;
        }, id);
        expect(await page.evaluate(paintedPixels(id)), `${id} is blank`).toBeGreaterThan(1_000);
      }
      const cycles = await page.evaluate(
        () =>
          (
            (window as unknown as { Chart: { getChart(id: string): unknown } }).Chart.getChart(
              'chart-duration',
            ) as {
              data: { labels: unknown[] };
            }
          ).data.labels.length,
      );
      expect(cycles).toBeGreaterThanOrEqual(2); // the manual run and the scheduled one(s)
      await shot(page, 'overview');

      // Runs: the scheduled cycle, success, triggered by the schedule; its tasks.
      await goTo(page, url, '#/runs', 'runs');
      const row = page.locator(`#runs-table tr[data-run="${scheduled.runId}"]`);
      await expect.poll(() => row.locator('td.state').innerText()).toBe('success');
      expect(await row.locator('td.trigger').innerText()).toBe('schedule');
      await shot(page, 'runs');
      await row.click();
      await page.waitForSelector('#tasks-table tr[data-task="extract"]');
      expect(await page.locator('#run-state').innerText()).toBe('success');
      await shot(page, 'run');

      // Writes without the token or with a wrong one are refused, naming why, and change nothing.
      const bulk = { type: 'NULL_ORDER_ID', note: 'not allowed' };
      const before = await getJson<{ total: number; open: number }>(
        `${url}/api/exceptions?status=all&type=NULL_ORDER_ID`,
      );
      expect(before.open).toBeGreaterThan(0);
      const anonymous = await resolvePost(url, bulk);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ error: expect.stringMatching(/token/) });
      const wrong = await resolvePost(url, bulk, `${TOKEN}x`);
      expect(wrong.status).toBe(403);
      expect(await wrong.json()).toEqual({ error: expect.stringMatching(/token/) });
      const badInput = await resolvePost(url, { id: 'twelve', note: 'x' }, TOKEN);
      expect(badInput.status).toBe(400);
      expect(((await badInput.json()) as { error: string }).error).toMatch(/^id /);
      expect((await fetch(`${url}/api/runs?state=sleeping`)).status).toBe(400);
      expect((await fetch(`${url}/api/runs/999999999`)).status).toBe(404);
      expect(
        await getJson<{ total: number; open: number }>(`${url}/api/exceptions?status=all&type=NULL_ORDER_ID`),
      ).toMatchObject({ total: before.total, open: before.open });

      // Exceptions: resolve one held row through the page, a wrong token first.
      await goTo(page, url, '#/exceptions?status=open&type=ARCHIVE_ROUTING_GAP', 'exceptions');
      const target = page.locator('#exceptions-table tbody tr').first();
      const exceptionId = Number(await target.getAttribute('data-exception'));
      expect(exceptionId).toBeGreaterThan(0);
      await shot(page, 'exceptions');
      await target.locator('button.resolve').click();
      await page.waitForSelector('#resolve-dialog[open]');
      expect(await page.locator('#resolve-token').isVisible()).toBe(true);
      await page.fill('#resolve-note', NOTE);
      await page.fill('#resolve-token', 'not-the-token');
      await page.click('#resolve-submit');
      await expect.poll(() => page.locator('#resolve-error').innerText()).toMatch(/token is wrong/);
      await shot(page, 'resolve-dialog', false); // a modal: what the viewport shows
      await page.fill('#resolve-token', TOKEN);
      await page.click('#resolve-submit');
      await page.waitForSelector('#resolve-dialog', { state: 'hidden' });
      await expect.poll(() => page.locator('#toast').innerText()).toBe('Resolved 1 exception');
      await shown(page, 'exceptions');
      await expect
        .poll(() => page.locator(`#exceptions-table tr[data-exception="${exceptionId}"]`).count())
        .toBe(0);
      const resolvedView = await getJson<{ rows: { exception_id: number; notes: string }[] }>(
        `${url}/api/exceptions?status=resolved&type=ARCHIVE_ROUTING_GAP`,
      );
      expect(resolvedView.rows.find((r) => Number(r.exception_id) === exceptionId)?.notes).toContain(NOTE);

      // Tables: sizes per period (an archived one among them) and the DQ results.
      await goTo(page, url, '#/tables', 'tables');
      await page.waitForSelector('#sizes-table tr[data-period]');
      await page.waitForSelector('#dq-table tr[data-check="dq_missing_spath"]');
      expect(await page.evaluate(paintedPixels('chart-sizes'))).toBeGreaterThan(1_000);
      await shot(page, 'tables');

      // No secret in any page or response the browser saw, nor in the API's answers.
      const api = await Promise.all(
        ['overview', 'history', 'runs', `runs/${scheduled.runId}`, 'exceptions?status=all', 'tables'].map(
          async (path) => (await fetch(`${url}/api/${path}`)).text(),
        ),
      );
      const seen = [...bodies, ...api, await page.content()].join('\n');
      expect(bodies.length).toBeGreaterThan(10);
      for (const secret of [TOKEN, WEBHOOK_SECRET, PASSWORD]) expect(seen).not.toContain(secret);
      // The page's own errors: none but the refused write above (the browser logs its 403).
      expect(consoleErrors.filter((e) => !/status of 403/.test(e))).toEqual([]);
      await page.close();

      served.child.kill('SIGTERM');
      expect(await served.exited, served.stderr).toEqual({ code: 0, signal: null });

      // The warehouse itself: the one exception resolved with the note, no NULL_ORDER_ID touched.
      const [resolved] = await p.warehouse(
        'select resolved_at, notes from settlement_ods.order_tracking_exceptions where exception_id = $1',
        [exceptionId],
      );
      expect(resolved?.resolved_at).not.toBeNull();
      expect(String(resolved?.notes).split(NOTE).length - 1).toBe(1);
      const [untouched] = await p.warehouse(
        `select count(*) as n, count(resolved_at) as resolved from settlement_ods.order_tracking_exceptions
          where exception_type = 'NULL_ORDER_ID'`,
      );
      expect(Number(untouched?.n)).toBeGreaterThanOrEqual(before.total);
      expect(Number(untouched?.resolved)).toBe(before.total - before.open);
    });

    it('is read-only without a token: no resolve offered, writes refused', async () => {
      const served = startServe(serveEnv());
      const url = await served.url;
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(`${url}/#/exceptions?status=open&type=NULL_ORDER_ID`);
      await shown(page, 'exceptions');
      await page.waitForSelector('#exceptions-table tbody tr');
      expect(await page.locator('.readonly-note').isVisible()).toBe(true);
      expect(await page.locator('button.resolve').count()).toBe(0);
      await shot(page, 'readonly');
      await page.close();
      const refused = await resolvePost(url, { type: 'NULL_ORDER_ID', note: 'no' }, TOKEN);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toMatch(/read-only/);
      served.child.kill('SIGTERM');
      expect(await served.exited, served.stderr).toEqual({ code: 0, signal: null });
      const [open] = await p.warehouse(
        `select count(*) as n from settlement_ods.order_tracking_exceptions
          where exception_type = 'NULL_ORDER_ID' and resolved_at is not null`,
      );
      expect(Number(open?.n)).toBe(0);
    });
  });
