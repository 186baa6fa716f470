import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { maskSecrets } from '../config/secrets.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import { cycleExceptionTypes } from '../pipeline/exceptions.js';
import { metaTables } from '../pipeline/meta.js';
import { readStatus } from '../pipeline/status/read.js';
import { NOT_STARTED, type TaskReport } from '../runner/graph.js';
import type { RunSummary } from '../runner/run-cycle.js';
import type { ServeContext } from './context.js';

/** Every metric name starts with it (the process metrics too). */
export const METRIC_PREFIX = 'order_tracking_';

/** From a 50 ms task (calc_window) to the 60-minute task limit (SPEC §7), roughly ×2.5 apart. */
export const TASK_DURATION_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600,
] as const;

/** A run lasts from seconds to the cycle's 2-hour limit; the monitor can take longer. */
const RUN_DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600] as const;

/** A task that never started (upstream failed, or the run was stopping): nothing to time. */
const notRun = (task: TaskReport): boolean =>
  task.state === 'upstream_failed' || (task.state === 'cancelled' && task.error === NOT_STARTED);

export interface MetricsOptions {
  /** The clock lags are measured against, epoch seconds (default: the wall clock). */
  readonly now?: () => number;
}

export interface Metrics {
  /** Counts a finished run and times its tasks (call it once per run serve started). */
  observe(summary: RunSummary): void;
  /**
   * The exposition text: refreshes the gauges read from the warehouse (table sizes, watermarks,
   * open exceptions, last success per task) first. A warehouse that cannot be read leaves them at
   * their last values and sets `order_tracking_warehouse_up` to 0; it never fails the scrape.
   */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** The registry, for tests and for an embedding process that adds its own metrics. */
  readonly registry: Registry;
}

const epochOf = (iso: unknown): number | null => {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(String(iso));
  return Number.isFinite(ms) ? ms / 1000 : null;
};

/**
 * Prometheus metrics of `serve` (`GET /metrics`), in a registry of their own (never prom-client's
 * global one), every name prefixed `order_tracking_`:
 *
 * - per run serve started, counted in this process (they restart from 0 with it, as Prometheus
 *   expects of counters): `runs_total{kind,state}`, `run_duration_seconds{kind}`,
 *   `task_duration_seconds{task,state}`, `task_rows_read_total{task}`, `task_rows_written_total{task}`;
 * - read from the warehouse at each scrape, so they hold across restarts and runs started
 *   elsewhere (`order-tracking run` from cron): `task_last_success_timestamp_seconds{task}`,
 *   `watermark_lag_seconds{table}` (time cursors: now − watermark), `watermark_age_seconds{table}`
 *   (every cursor: since the watermark last moved), `open_exceptions{type}`, `raw_rows{table}`,
 *   `mart_rows{table}`, `hist_rows{table,period}` (tables of a million rows and more are the
 *   server's estimate, as in `status`), `warehouse_up`;
 * - the process (`process_resident_memory_bytes`, heap, event loop lag…), prom-client's defaults.
 */
export const createMetrics = (context: ServeContext, options: MetricsOptions = {}): Metrics => {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const registry = new Registry();
  const registers = [registry];
  const name = (n: string): string => `${METRIC_PREFIX}${n}`;
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  const runs = new Counter({
    name: name('runs_total'),
    help: 'Runs serve started, by kind (run: the cycle, monitor: the daily run) and final state.',
    labelNames: ['kind', 'state'] as const,
    registers,
  });
  const runDuration = new Histogram({
    name: name('run_duration_seconds'),
    help: 'Duration of the runs serve started, by kind.',
    labelNames: ['kind'] as const,
    buckets: [...RUN_DURATION_BUCKETS],
    registers,
  });
  const taskDuration = new Histogram({
    name: name('task_duration_seconds'),
    help: 'Duration of each task of the runs serve started, by task and final state.',
    labelNames: ['task', 'state'] as const,
    buckets: [...TASK_DURATION_BUCKETS],
    registers,
  });
  const rowsRead = new Counter({
    name: name('task_rows_read_total'),
    help: 'Rows read by each task of the runs serve started (source rows for extract).',
    labelNames: ['task'] as const,
    registers,
  });
  const rowsWritten = new Counter({
    name: name('task_rows_written_total'),
    help: 'Rows written by each task of the runs serve started.',
    labelNames: ['task'] as const,
    registers,
  });
  const lastSuccess = new Gauge({
    name: name('task_last_success_timestamp_seconds'),
    help: 'When each task last ended successfully, epoch seconds (from the run ledger).',
    labelNames: ['task'] as const,
    registers,
  });
  const watermarkLag = new Gauge({
    name: name('watermark_lag_seconds'),
    help: 'Now minus the watermark, for tables with a time cursor (uni_tracking_info by default).',
    labelNames: ['table'] as const,
    registers,
  });
  const watermarkAge = new Gauge({
    name: name('watermark_age_seconds'),
    help: 'Seconds since the watermark of each table last moved (any cursor kind).',
    labelNames: ['table'] as const,
    registers,
  });
  const openExceptions = new Gauge({
    name: name('open_exceptions'),
    help: 'Open exceptions in the ledger, by type.',
    labelNames: ['type'] as const,
    registers,
  });
  const rawRows = new Gauge({
    name: name('raw_rows'),
    help: 'Rows in each raw table (estimated from a million rows).',
    labelNames: ['table'] as const,
    registers,
  });
  const martRows = new Gauge({
    name: name('mart_rows'),
    help: 'Rows in each mart table (estimated from a million rows).',
    labelNames: ['table'] as const,
    registers,
  });
  const histRows = new Gauge({
    name: name('hist_rows'),
    help: 'Rows in each hist table, by archive period (estimated from a million rows).',
    labelNames: ['table', 'period'] as const,
    registers,
  });
  const warehouseUp = new Gauge({
    name: name('warehouse_up'),
    help: '1 when the last scrape read the warehouse, 0 when it could not.',
    registers,
  });

  /** Types seen open once: shown as 0 when none is left, rather than vanishing. */
  const exceptionTypes = new Set<string>(cycleExceptionTypes);

  const refresh = async (): Promise<void> => {
    const { settings, warehouse } = context;
    const at = now();
    const [report, successes] = await withConnection(warehouse, async (c) => {
      const status = await readStatus(c, warehouse.dialect, {
        settings,
        warehouseUrl: warehouse.displayUrl,
        now: at,
        source: null,
      });
      const tasks = metaTables(settings.schemas).taskInstances;
      const last = await c.query<{ task: string; ended: string | null }>(
        `select task, max(ended_at) as ended from ${warehouse.dialect.table(tasks.schema, tasks.name)}
          where state = 'success' group by task`,
      );
      return [status, last] as const;
    });
    for (const s of successes) {
      const ended = epochOf(s.ended);
      if (ended !== null) lastSuccess.set({ task: String(s.task) }, ended);
    }
    for (const w of report.watermarks) {
      if (w.lagSeconds !== null) watermarkLag.set({ table: w.table }, w.lagSeconds);
      const moved = epochOf(w.updatedAt);
      if (moved !== null) watermarkAge.set({ table: w.table }, Math.max(0, at - moved));
    }
    for (const e of report.exceptions.byType) exceptionTypes.add(e.type);
    for (const type of exceptionTypes)
      openExceptions.set({ type }, report.exceptions.byType.find((e) => e.type === type)?.count ?? 0);
    for (const t of report.tables.raw) if (t.exists) rawRows.set({ table: t.table }, t.rows);
    for (const t of report.tables.marts) if (t.exists) martRows.set({ table: t.table }, t.rows);
    // A hist table is only ever dropped by hand: the set is rebuilt so a dropped one vanishes.
    histRows.reset();
    for (const p of report.hist)
      for (const t of p.tables) if (t.exists) histRows.set({ table: t.table, period: p.period }, t.rows);
  };

  return {
    registry,
    observe(summary) {
      runs.inc({ kind: summary.kind, state: summary.state });
      runDuration.observe({ kind: summary.kind }, summary.seconds);
      for (const task of summary.tasks) {
        if (notRun(task)) continue;
        taskDuration.observe({ task: task.task, state: task.state }, task.seconds);
        if (task.rowsRead !== undefined) rowsRead.inc({ task: task.task }, task.rowsRead);
        if (task.rowsWritten !== undefined) rowsWritten.inc({ task: task.task }, task.rowsWritten);
        if (task.state === 'success') {
          const ended = epochOf(task.endedAt);
          if (ended !== null) lastSuccess.set({ task: task.task }, ended);
        }
      }
    },
    async render() {
      try {
        await refresh();
        warehouseUp.set(1);
      } catch (error) {
        warehouseUp.set(0);
        context.log.warn(
          {
            error: maskSecrets((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''),
          },
          'metrics could not read the warehouse; its gauges keep their last values',
        );
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
};
