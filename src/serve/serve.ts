import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, ExitCode, UserError } from '../config/errors.js';
import { rememberSecretValues } from '../config/secrets.js';
import type { Settings } from '../config/settings.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import { withConnection, type Warehouse } from '../engines/warehouse/warehouse.js';
import { monitorTasks } from '../pipeline/monitor/index.js';
import { monitorSteps } from '../pipeline/monitor/steps.js';
import { planLatestRunOfKind } from '../pipeline/status/sql.js';
import { cycleTasks } from '../pipeline/tasks/index.js';
import { initWarehouse } from '../runner/init.js';
import type { Logger } from '../runner/logger.js';
import { recordSkipped, runTasks, type RunKind, type RunSummary } from '../runner/run-cycle.js';
import { createAlerter } from './alerts.js';
import type { ServeContext } from './context.js';
import { startHttp } from './http.js';
import { createMetrics } from './metrics.js';
import { intervalSeconds, startSchedule, type Schedule } from './schedule.js';
import { serveStatePath, type ServeState } from './state.js';

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  readonly log: Logger;
  /** Aborted by SIGTERM or SIGINT (the reason names it): serve stops scheduling and winds down. */
  readonly signal: AbortSignal;
  /** Called once the dashboard listens, with its URL. */
  readonly onListening?: (url: string) => void;
}

const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * `order-tracking serve` (SPEC §7): the cycle and the monitor on their schedules, one run at a time
 * (a slot that comes while one runs is recorded `skipped`, never queued), the dashboard, health and
 * metrics, alerts. Resolves when a signal has stopped it and its last run has wound down.
 */
export const serve = async (settings: Settings, options: ServeOptions): Promise<void> => {
  const { log } = options;
  const host = options.host ?? settings.dashboard.host;
  const port = options.port ?? settings.dashboard.port;
  if (!loopback.test(host) && settings.dashboard.token === null)
    throw new ConfigError(
      `serve: the dashboard would listen on ${host} without a token: set ORDER_TRACKING_DASHBOARD_TOKEN or bind to 127.0.0.1`,
    );
  rememberSecretValues(settings.dashboard.token, settings.alertWebhook);
  // A fresh warehouse is made ready (init is idempotent), so `serve` alone starts a pipeline.
  await initWarehouse(settings);
  const warehouse = await openWarehouse(settings.warehouse, { settings });
  // A holder, not a variable: the slots' closures set it, and the shutdown below reads it.
  const active: {
    run: { kind: RunKind; since: string; done: Promise<void>; stop: AbortController } | null;
    monitorWaiting: boolean;
  } = { run: null, monitorWaiting: false };
  const schedules: { cycle?: Schedule; monitor?: Schedule } = {};
  const context: ServeContext = {
    settings,
    warehouse,
    log,
    url: '',
    startedAt: new Date().toISOString(),
    nextSlots: (count) => ({
      cycle: schedules.cycle?.next(count) ?? [],
      monitor: schedules.monitor?.next(count) ?? [],
    }),
    cycleIntervalSeconds: intervalSeconds(settings.schedule.cycle, settings.schedule.timezone),
    current: () => (active.run ? { kind: active.run.kind, since: active.run.since } : null),
  };
  const metrics = createMetrics(context);
  const alerter = createAlerter({ webhook: settings.alertWebhook, log });
  let http: Awaited<ReturnType<typeof startHttp>> | undefined;
  const statePath = serveStatePath(settings);
  try {
    http = await startHttp(context, metrics, host, port);
    (context as { url: string }).url = http.url;
    await writeState(statePath, {
      pid: process.pid,
      url: http.url,
      startedAt: context.startedAt,
      warehouse: warehouse.displayUrl,
    });

    const begin = (kind: RunKind): void => {
      const stop = new AbortController();
      const since = new Date().toISOString();
      const done = startRun(kind, stop.signal).finally(() => {
        active.run = null;
        // The daily monitor's slot that came during a cycle runs once the cycle is done.
        if (active.monitorWaiting && !options.signal.aborted) {
          active.monitorWaiting = false;
          begin('monitor');
        }
      });
      active.run = { kind, since, done, stop };
    };

    const slot =
      (kind: RunKind) =>
      (at: Date): void => {
        if (options.signal.aborted) return;
        const current = active.run;
        if (!current) return begin(kind);
        // With the defaults both fire at 02:00: a daily run must not be lost to a 15-minute one,
        // so the monitor waits for the cycle (once); any other slot is skipped (catch-up off).
        if (kind === 'monitor' && current.kind === 'run' && !active.monitorWaiting) {
          active.monitorWaiting = true;
          log.info(`monitor slot ${at.toISOString()} waits for the cycle started ${current.since}`);
          return;
        }
        const reason = `slot ${at.toISOString()} skipped: ${current.kind} started ${current.since} is still running`;
        log.warn({ kind }, reason);
        void recordSkipped(warehouse, settings, kind, 'schedule', reason).catch((error: unknown) =>
          log.error({ err: error }, 'could not record a skipped slot'),
        );
      };

    const startRun = async (kind: RunKind, signal: AbortSignal): Promise<void> => {
      let summary: RunSummary | undefined;
      try {
        // A failed or timed-out run is returned, for metrics and alerts; a stopped one throws.
        summary = await runTasks(kind, kind === 'run' ? cycleTasks : monitorTasks(monitorSteps), {
          settings,
          log,
          signal,
          trigger: 'schedule',
          warehouse,
          returnFailed: true,
        });
      } catch (error) {
        if (error instanceof UserError && error.exitCode === ExitCode.busy) {
          // Another process holds the lease: this slot did not run (SPEC §7, catch-up off).
          const reason = `slot skipped: ${error.message.split('\n')[0]}`;
          log.warn({ kind }, reason);
          await recordSkipped(warehouse, settings, kind, 'schedule', reason).catch(() => undefined);
          return;
        }
        const line = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
        log.error({ kind }, `${kind} ended: ${line}`);
        const stopped =
          error instanceof UserError &&
          (error.exitCode === ExitCode.interrupted || error.exitCode === ExitCode.terminated);
        // A run stopped by the signal is in the ledger; one that failed before it could be
        // recorded (the warehouse unreachable) still counts as failed for metrics and alerts.
        summary = stopped
          ? await lastSummary(warehouse, settings, kind).catch(() => undefined)
          : { runId: 0, kind, trigger: 'schedule', state: 'failed', seconds: 0, tasks: [], error: line };
      }
      if (!summary) return;
      metrics.observe(summary);
      await alerter
        .afterRun(summary, warehouse, settings)
        .catch((error: unknown) => log.warn({ err: error }, 'alerts not sent'));
    };

    schedules.cycle = startSchedule(settings.schedule.cycle, settings.schedule.timezone, slot('run'));
    schedules.monitor = startSchedule(settings.schedule.monitor, settings.schedule.timezone, slot('monitor'));
    options.onListening?.(http.url);

    await new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    schedules.cycle.stop();
    schedules.monitor.stop();
    const running = active.run;
    if (running) {
      // The run's own grace applies: its current task may finish, then it is cancelled (SPEC §7).
      running.stop.abort(options.signal.reason);
      await running.done;
    }
  } finally {
    schedules.cycle?.stop();
    schedules.monitor?.stop();
    await http?.close();
    await rm(statePath, { force: true });
    await warehouse.close();
  }
};

const writeState = async (path: string, state: ServeState): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(state));
};

/** The summary the ledger recorded for the latest run of `kind` (a run that threw after recording). */
const lastSummary = async (
  warehouse: Warehouse,
  settings: Settings,
  kind: RunKind,
): Promise<RunSummary | undefined> => {
  const statement = planLatestRunOfKind(warehouse.dialect, settings.schemas, kind);
  const row = await withConnection(
    warehouse,
    async (c) => (await c.query<{ summary: string | null }>(statement.sql, statement.params))[0],
  );
  if (!row?.summary) return undefined;
  try {
    return JSON.parse(row.summary) as RunSummary;
  } catch {
    return undefined;
  }
};
