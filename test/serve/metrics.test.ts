/**
 * serve's Prometheus metrics (SPEC §7 `GET /metrics`), on DuckDB + SQLite and on PostgreSQL +
 * MariaDB: after a real run (an archive into 2025_h2, a frozen 2025_h1 holding rows under open
 * ARCHIVE_ROUTING_GAP exceptions), the exposition text parses, every name is prefixed
 * `order_tracking_`, and the task, run, table, watermark and exception figures are the warehouse's.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings, type Settings } from '../../src/config/settings.js';
import { openWarehouse } from '../../src/engines/warehouse/open.js';
import { withConnection, type Warehouse } from '../../src/engines/warehouse/warehouse.js';
import type { RunSummary } from '../../src/runner/run-cycle.js';
import type { ServeContext } from '../../src/serve/context.js';
import { createMetrics } from '../../src/serve/metrics.js';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28
const HOUR = 3_600;
const DAY = 86_400;

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/y;
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
// Prometheus reads values with Go's ParseFloat: `NaN` and `Inf` in any case (prom-client writes `Nan`).
const number = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|nan|[+-]?inf)$/i;

/**
 * The Prometheus text exposition format (0.0.4), line by line: `# HELP`, `# TYPE` and samples, each
 * sample of a family declared by a `# TYPE` before it; throws on any line that is not one of these.
 */
const parseExposition = (text: string): { types: Map<string, string>; samples: Sample[] } => {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (comment) {
      const [, kind, name = '', rest = ''] = comment;
      if (!metricName.test(name)) throw new Error(`bad metric name: ${line}`);
      if (kind === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) throw new Error(`bad TYPE: ${line}`);
        if (types.has(name)) throw new Error(`TYPE twice: ${line}`);
        types.set(name, rest);
      }
      continue;
    }
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name = '', body = '', value = ''] = m;
    if (!number.test(value)) throw new Error(`bad value: ${line}`);
    const labels: Record<string, string> = {};
    label.lastIndex = 0;
    for (let at = 0; at < body.length;) {
      label.lastIndex = at;
      const l = label.exec(body);
      if (!l) throw new Error(`bad labels: ${line}`);
      labels[l[1] ?? ''] = l[2] ?? '';
      at = label.lastIndex;
      if (at < body.length) {
        if (body[at] !== ',') throw new Error(`bad labels: ${line}`);
        at++;
      }
    }
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    if (!family) throw new Error(`sample without a TYPE before it: ${line}`);
    samples.push({
      name,
      labels,
      value: /nan/i.test(value) ? NaN : Number(value.replace(/inf/i, 'Infinity')),
    });
  }
  return { types, samples };
};

/** The value of the one sample named `name` whose labels include `labels`. */
const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number => {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length !== 1) throw new Error(`${found.length} samples ${name} ${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
};

for (const pair of pairs) {
  describe.skipIf(await pair.skip())(`serve metrics on ${pair.name}`, () => {
    let p: EnginePair;
    let settings: Settings;
    let env: Record<string, string>;

    beforeEach(async () => {
      p = await pair.create();
      env = { ORDER_TRACKING_WAREHOUSE: p.warehouseUrl, ORDER_TRACKING_SOURCE: p.sourceUrl };
      settings = resolveSettings({}, env);
      expect((await cli(['init'], env)).code).toBe(0);
    });
    afterEach(async () => p.close());

    let nextId = 1;
    const order = async (orderId: string, t: number) => {
      const id = nextId++;
      await p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [id, orderId, `TN${id}`, 'IN_TRANSIT', 'DHL', 'Lyon', t],
      );
      await p.source(
        'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
        [id, orderId, 7, 'Ada', 'Lyon', 1200, t],
      );
      for (const i of [0, 1])
        await p.source(
          'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
          [id * 100 + i, orderId, i + 1, t + i * 60, 'Lyon', 'ARRIVE', null],
        );
    };

    const context = (warehouse: Warehouse): ServeContext => ({
      settings,
      warehouse,
      log: pino({ level: 'silent' }),
      url: 'http://127.0.0.1:0',
      startedAt: new Date().toISOString(),
      nextSlots: () => ({ cycle: [], monitor: [] }),
      cycleIntervalSeconds: 900,
      current: () => null,
    });

    it('exposes task, run, table, watermark and exception figures equal to the warehouse', async () => {
      nextId = 1;
      await order('OT-H1', NOW - 340 * DAY); // 2025_h1, frozen: held in the marts, open gaps
      await order('OT-H2', NOW - 200 * DAY); // 2025_h2: archived
      await order('OT-NEW', NOW - HOUR);
      await order('OT-NEW-2', NOW - 2 * HOUR);
      const r = await cli(['run'], {
        ...env,
        ORDER_TRACKING_NOW: String(NOW),
        ORDER_TRACKING_FROZEN_PERIODS: '2025_h1',
      });
      expect(r.stderr).not.toMatch(/order-tracking:/);
      expect(r.code).toBe(0);

      // The warehouse's own figures, read before this process opens it (DuckDB: one handle).
      const count = async (table: string) =>
        Number((await p.warehouse(`select count(*) as n from settlement_ods.${table}`))[0]?.n);
      const marts = ['mart_uni_tracking_info', 'mart_ecs_order_info', 'mart_uni_tracking_spath'];
      const martCounts = await Promise.all(marts.map(count));
      const histTables = (
        await p.warehouse(
          `select table_name from information_schema.tables where table_schema = 'settlement_ods' and table_name like 'hist_%' order by 1`,
        )
      ).map((t) => String(t.table_name));
      expect(histTables).toEqual([
        'hist_ecs_order_info_2025_h2',
        'hist_uni_tracking_info_2025_h2',
        'hist_uni_tracking_spath_2025_h2',
      ]);
      const histCounts = await Promise.all(histTables.map(count));
      const gaps = await p.warehouse(
        `select exception_type, count(*) as n from settlement_ods.order_tracking_exceptions
          where resolved_at is null group by exception_type order by 1`,
      );
      expect(gaps.map((g) => g.exception_type)).toEqual(['ARCHIVE_ROUTING_GAP', 'ARCHIVE_ROUTING_GAP_UTS']);
      const [mark] = await p.warehouse(
        "select value from order_tracking_meta.watermarks where table_name = 'uni_tracking_info'",
      );

      const scrapeAt = NOW + 600;
      const warehouse = await openWarehouse(settings.warehouse, { settings });
      let closed = false;
      try {
        const summary = await withConnection(warehouse, async (c) => {
          const [row] = await c.query(
            'select summary from order_tracking_meta.runs order by run_id desc limit 1',
          );
          return JSON.parse(String(row?.summary)) as RunSummary;
        });
        const metrics = createMetrics(context(warehouse), { now: () => scrapeAt });
        metrics.observe(summary);
        const { contentType, body } = await metrics.render();
        expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
        const { types, samples } = parseExposition(body);
        for (const name of [...types.keys(), ...samples.map((s) => s.name)])
          expect(name.startsWith('order_tracking_')).toBe(true);

        // Per run serve started.
        expect(types.get('order_tracking_task_duration_seconds')).toBe('histogram');
        const extract = summary.tasks.find((t) => t.task === 'extract');
        expect(extract?.state).toBe('success');
        const extractBuckets = samples.filter(
          (s) =>
            s.name === 'order_tracking_task_duration_seconds_bucket' &&
            s.labels.task === 'extract' &&
            s.labels.state === 'success',
        );
        expect(extractBuckets.map((s) => s.labels.le)).toEqual([
          ...['0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '120', '300', '600'],
          ...['1200', '1800', '3600', '+Inf'],
        ]);
        expect(extractBuckets.at(-1)?.value).toBe(1);
        expect(body).toMatch(/^order_tracking_task_duration_seconds_bucket\{[^}]*task="extract"[^}]*\} 1$/m);
        expect(valueOf(samples, 'order_tracking_task_duration_seconds_sum', { task: 'extract' })).toBeCloseTo(
          extract?.seconds ?? -1,
          6,
        );
        expect(valueOf(samples, 'order_tracking_task_rows_written_total', { task: 'extract' })).toBe(
          extract?.rowsWritten,
        );
        expect(extract?.rowsWritten).toBe(16); // 4 tracking rows, 4 ecs rows and 8 scans landed
        expect(valueOf(samples, 'order_tracking_runs_total', { kind: 'run', state: 'success' })).toBe(1);
        expect(valueOf(samples, 'order_tracking_run_duration_seconds_count', { kind: 'run' })).toBe(1);

        // Read from the warehouse.
        for (const [i, table] of marts.entries())
          expect(valueOf(samples, 'order_tracking_mart_rows', { table })).toBe(martCounts[i]);
        expect(martCounts).toEqual([3, 3, 6]); // OT-H1 held, OT-H2 archived
        for (const [i, table] of histTables.entries())
          expect(valueOf(samples, 'order_tracking_hist_rows', { table, period: '2025_h2' })).toBe(
            histCounts[i],
          );
        expect(histCounts).toEqual([1, 1, 2]);
        for (const g of gaps)
          expect(valueOf(samples, 'order_tracking_open_exceptions', { type: String(g.exception_type) })).toBe(
            Number(g.n),
          );
        expect(valueOf(samples, 'order_tracking_open_exceptions', { type: 'NULL_ORDER_ID' })).toBe(0);
        expect(valueOf(samples, 'order_tracking_watermark_lag_seconds', { table: 'uni_tracking_info' })).toBe(
          scrapeAt - Number(mark?.value),
        );
        expect(
          samples.some(
            (s) => s.name === 'order_tracking_watermark_lag_seconds' && s.labels.table === 'ecs_order_info',
          ),
        ).toBe(false);
        expect(
          valueOf(samples, 'order_tracking_watermark_age_seconds', { table: 'ecs_order_info' }),
        ).toBeGreaterThanOrEqual(0);
        expect(
          valueOf(samples, 'order_tracking_task_last_success_timestamp_seconds', { task: 'extract' }),
        ).toBe(Date.parse(extract?.endedAt ?? '') / 1000);
        expect(valueOf(samples, 'order_tracking_warehouse_up')).toBe(1);
        expect(valueOf(samples, 'order_tracking_process_resident_memory_bytes')).toBeGreaterThan(0);

        // A warehouse that cannot be read: the scrape still answers, saying so, with the last figures.
        await warehouse.close();
        closed = true;
        const after = parseExposition((await metrics.render()).body).samples;
        expect(valueOf(after, 'order_tracking_warehouse_up')).toBe(0);
        expect(valueOf(after, 'order_tracking_mart_rows', { table: marts[0] as string })).toBe(martCounts[0]);
      } finally {
        if (!closed) await warehouse.close();
      }
    });
  });
}
