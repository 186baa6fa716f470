import type { Settings } from '../config/settings.js';
import { DEFAULT_RUN_TIMEOUTS, requireSource } from '../config/settings.js';
import { ConfigError, ExitCode, UserError } from '../config/errors.js';
import { openSource } from '../engines/source/open.js';
import type { Source } from '../engines/source/source.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import {
  withConnection,
  type Lease,
  type Warehouse,
  type WarehouseConnection,
  type Dialect,
} from '../engines/warehouse/warehouse.js';
import { exceptionsTable, metaTables } from '../pipeline/meta.js';
import { saveStatusSnapshot } from '../pipeline/status/snapshot.js';
import { cycleTasks } from '../pipeline/tasks/index.js';
import type { Value } from '../engines/types.js';
import type { RunContext } from './context.js';
import type { Logger } from './logger.js';
import { executeGraph, NOT_STARTED, RunTimedOut, type TaskReport } from './graph.js';
import type { Task } from './task.js';

export interface RunSummary {
  readonly runId: number;
  /** `run`: the 15-minute cycle; `monitor`: the daily run (SPEC §6). */
  readonly kind: RunKind;
  /**
   * `cancelled`: stopped by SIGTERM or SIGINT (exit 143 or 130); `timed_out`: a task, or the run,
   * reached its limit (exit 124). Either way what the task was doing rolled back.
   */
  readonly state: 'success' | 'failed' | 'timed_out' | 'cancelled';
  /** What started it: `schedule` (serve), `manual` (run, monitor), `task` (task <name>). */
  readonly trigger: RunTrigger;
  readonly seconds: number;
  readonly tasks: readonly TaskReport[];
  readonly error?: string;
}

/** What the run ledger records a run as. */
export type RunKind = 'run' | 'monitor';
export type RunTrigger = 'schedule' | 'manual' | 'task';

export interface CycleOptions {
  readonly settings: Settings;
  readonly log: Logger;
  /** The run's clock, epoch seconds; defaults to the wall clock. */
  readonly now?: number;
  /**
   * Stops the run (SIGTERM, SIGINT; the abort reason names the signal): the current task is
   * cancelled and rolled back, nothing new starts, the lease is released.
   */
  readonly signal?: AbortSignal;
  /** A failed task returns the summary (state `failed`) instead of throwing: the monitor prints it. */
  readonly returnFailed?: boolean;
  /** `false`: run without a source when none is configured (monitor steps that read none). */
  readonly needsSource?: boolean;
  /** Recorded in the ledger (default `manual`). */
  readonly trigger?: RunTrigger;
  /** An open warehouse to run on and leave open (serve's); by default one is opened and closed. */
  readonly warehouse?: Warehouse;
  /** What the tasks start from, for a task run alone (`task tests`: the batches to check). */
  readonly initialState?: RunContext['state'];
}

/** Stands in for the source of a run whose tasks read none: any use is a one-line config error. */
const absentSource: Source = (() => {
  const fail = (): never => {
    throw new ConfigError('no source given: pass --source mysql://… or set ORDER_TRACKING_SOURCE');
  };
  return {
    displayUrl: '(no source)',
    describeTable: async () => fail(),
    max: async () => fail(),
    clock: async () => fail(),
    snapshot: async () => fail(),
    close: async () => undefined,
  };
})();

/** The lease key of one pipeline: its metadata schema (SPEC §7: one active run per pipeline). */
export const leaseKey = (settings: Settings): string => `order-tracking:${settings.schemas.meta}`;

const isoNow = (): string => new Date().toISOString();

/**
 * Fails with "run init first" when the metadata tables are missing, and with "run init to upgrade"
 * when a table lacks a column a later release added (`TableSpec.added`).
 */
export const requireInitialized = async (warehouse: Warehouse, settings: Settings): Promise<void> => {
  const runs = metaTables(settings.schemas).runs;
  if (!(await warehouse.describeTable(runs.schema, runs.name)))
    throw new UserError(
      `warehouse ${warehouse.displayUrl} has no ${runs.schema}.${runs.name}: run \`order-tracking init\` first`,
      ExitCode.config,
    );
  const tables = [exceptionsTable(settings.schemas), ...Object.values(metaTables(settings.schemas))];
  // One catalog read for all of them: `describeTable` per table cost the cycle a look-up each.
  const present = await withConnection(warehouse, async (c) =>
    (
      await c.query<{ table_schema: string; table_name: string }>(
        `select table_schema, table_name from information_schema.tables where table_schema in ($1, $2)`,
        [settings.schemas.mart, settings.schemas.meta],
      )
    ).map((r) => `${r.table_schema}.${r.table_name}`),
  );
  const missingTable = tables.find((t) => !present.includes(`${t.schema}.${t.name}`));
  if (missingTable)
    throw new UserError(
      `warehouse ${warehouse.displayUrl} was initialized by an older order-tracking (it has no ${missingTable.schema}.${missingTable.name}): run \`order-tracking init\` to upgrade it`,
      ExitCode.config,
    );
  for (const table of tables) {
    if (!table.added?.length) continue;
    const present = new Set((await warehouse.describeTable(table.schema, table.name))?.map((c) => c.name));
    const missing = table.added.filter((name) => !present.has(name));
    if (missing.length > 0)
      throw new UserError(
        `warehouse ${warehouse.displayUrl} was initialized by an older order-tracking (${table.schema}.${table.name} has no ${missing.join(', ')}): run \`order-tracking init\` to upgrade it`,
        ExitCode.config,
      );
  }
};

/** Takes the pipeline's lease, or fails at once (exit 75) when another run holds it (SPEC §7). */
export const takeLease = async (warehouse: Warehouse, settings: Settings): Promise<Lease> => {
  const lease = await warehouse.tryLease(leaseKey(settings));
  if (!lease)
    throw new UserError(
      `another order-tracking run is active on ${warehouse.displayUrl} (lease ${leaseKey(settings)}); nothing was changed`,
      ExitCode.busy,
    );
  return lease;
};

/**
 * Opens the source, runs `preflight` on it, then opens the warehouse and runs `fn` under the
 * pipeline's lease; always releases and closes. Source problems surface before the warehouse is
 * touched (an embedded warehouse file is not even created). `signal` aborting fails source reads
 * in progress at once.
 */
export const withPipeline = async <P, T>(
  settings: Settings,
  preflight: (source: Source) => Promise<P>,
  fn: (warehouse: Warehouse, source: Source, checked: P) => Promise<T>,
  signal?: AbortSignal,
  needsSource = true,
  shared?: Warehouse,
): Promise<T> => {
  const source = !needsSource
    ? absentSource
    : await openSource(requireSource(settings), {
        readTimeoutSeconds: settings.sourceReadTimeoutSeconds,
        ...(signal ? { signal } : {}),
      });
  try {
    const checked = await preflight(source);
    const warehouse = shared ?? (await openWarehouse(settings.warehouse, { settings }));
    try {
      const lease = await takeLease(warehouse, settings);
      try {
        return await fn(warehouse, source, checked);
      } finally {
        // Reads a task left open past its wind-down fail now, so their loads roll back while the
        // warehouse is still open and the lease still held.
        await source.close();
        await lease.release();
      }
    } finally {
      if (!shared) await warehouse.close();
    }
  } finally {
    await source.close();
  }
};

/**
 * Marks runs the ledger still shows `running` as `abandoned`, with the time this run noticed: under
 * the lease no other run is active, so their process ended (SIGKILL, OOM, a lost host) without
 * recording an end, and `status` would show them running forever.
 */
const markAbandoned = async (
  connection: WarehouseConnection,
  d: Dialect,
  runs: string,
  runId: number,
  log: Logger,
): Promise<void> => {
  const open = await connection.query<{ run_id: number }>(
    `select run_id from ${runs} where state = 'running' and run_id <> $1 order by run_id`,
    [runId],
  );
  if (open.length === 0) return;
  await connection.execute(
    `update ${runs} set state = 'abandoned', ended_at = ${d.now}, error = $1 where state = 'running' and run_id <> $2`,
    [`abandoned: the process ended without recording an end; noticed by run ${runId}`, runId],
  );
  log.warn(
    { runs: open.map((r) => Number(r.run_id)) },
    'marked runs abandoned: their process ended without recording an end',
  );
};

const notStarted = (r: TaskReport): boolean => r.state === 'cancelled' && r.error === NOT_STARTED;

/** The one line for a run stopped by a signal (SPEC §7): where it was, and that nothing is left half-done. */
const interrupted = (runId: number, signal: AbortSignal, reports: readonly TaskReport[]): string => {
  const name = typeof signal.reason === 'string' ? signal.reason : 'asked to stop';
  const running = reports.filter((r) => r.state === 'cancelled' && !notStarted(r)).map((r) => r.task);
  const next = reports.find(notStarted)?.task;
  if (running.length === 0)
    return `run ${runId} was interrupted (${name}) ${next ? `before ${next}` : 'at its end'}; it started nothing more, the lease is released`;
  return `run ${runId} was interrupted (${name}) during ${running.join(' and ')}; nothing it was doing was kept, the lease is released`;
};

/** One 15-minute cycle (SPEC §3), recorded in the run ledger. */
export const runCycle = async (options: CycleOptions): Promise<RunSummary> =>
  runTasks('run', cycleTasks, options);

const timestampText = (iso: string): string => iso.replace('T', ' ').replace('Z', '');

/** The run's own limit (`timeouts.cycle`, `timeouts.monitor`), in seconds. */
const runLimitSeconds = (kind: RunKind, settings: Settings): number =>
  settings.timeouts[kind === 'run' ? 'cycle' : 'monitor'] ??
  DEFAULT_RUN_TIMEOUTS[kind === 'run' ? 'cycle' : 'monitor'];

/** The exit code of a run that did not succeed: orchestrators tell a timeout from a stop from a failure. */
const exitCodeOf = (state: RunSummary['state'], signal: AbortSignal | undefined): number =>
  state === 'timed_out'
    ? ExitCode.timedOut
    : signal?.reason === 'SIGTERM'
      ? ExitCode.terminated
      : ExitCode.interrupted;

/**
 * Runs a task graph under the pipeline's lease as one run of the ledger (`runs` with one
 * `task_instances` row per task): the cycle, the daily monitor (SPEC §6), one task (`task <name>`).
 */
export const runTasks = async (
  kind: RunKind,
  tasks: readonly Task[],
  options: CycleOptions,
): Promise<RunSummary> => {
  const { settings, log } = options;
  const trigger = options.trigger ?? 'manual';
  // The run's own limit stops it like a signal does, with its own reason (SPEC §7).
  const limit = runLimitSeconds(kind, settings);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new RunTimedOut(limit)), limit * 1000);
  // A signal stops new tasks at once; the running one gets the grace to finish, then is cancelled.
  const drain = new AbortController();
  let grace: NodeJS.Timeout | undefined;
  const onOuter = (): void => {
    const reason: unknown = options.signal?.reason;
    drain.abort(reason);
    grace = setTimeout(() => stop.abort(reason), settings.stopGraceSeconds * 1000);
  };
  options.signal?.addEventListener('abort', onOuter, { once: true });
  if (options.signal?.aborted) onOuter();
  try {
    return await withPipeline(
      settings,
      async () => undefined,
      async (warehouse, source) => {
        await requireInitialized(warehouse, settings);
        const d = warehouse.dialect;
        const meta = metaTables(settings.schemas);
        const runs = d.table(meta.runs.schema, meta.runs.name);
        const taskTable = d.table(meta.taskInstances.schema, meta.taskInstances.name);
        const connection = await warehouse.connect();
        try {
          const runId = await insertRun(connection, runs, (id) => [
            `insert into ${runs} (run_id, kind, state, started_at, triggered_by) values ($1, $2, 'running', cast($3 as timestamp), $4)`,
            [id, kind, timestampText(isoNow()), trigger],
          ]);
          await markAbandoned(connection, d, runs, runId, log);
          const context: RunContext = {
            settings,
            warehouse,
            source,
            runId,
            now: options.now ?? Math.floor(Date.now() / 1000),
            log: log.child({ run: runId }),
            state: { ...options.initialState },
          };
          const started = performance.now();
          const reports = await executeGraph(tasks, context, stop.signal, drain.signal, async (report) => {
            await connection.execute(
              `insert into ${taskTable} (run_id, task, state, started_at, ended_at, seconds, rows_read, rows_written, error, attempts)
             values ($1, $2, $3, cast($4 as timestamp), cast($5 as timestamp), $6, $7, $8, $9, $10)`,
              [
                runId,
                report.task,
                report.state,
                timestampText(report.startedAt),
                timestampText(report.endedAt),
                report.seconds,
                report.rowsRead ?? null,
                report.rowsWritten ?? null,
                report.error ?? null,
                report.attempts ?? 1,
              ],
            );
          });
          const failed = reports.find((r) => r.state === 'failed');
          // The run's own limit may have come between tasks, when no task was left to time out.
          const timedOut =
            reports.find((r) => r.state === 'timed_out') ??
            (stop.signal.reason instanceof RunTimedOut && reports.some((r) => r.state !== 'success')
              ? reports.find(notStarted)
              : undefined);
          const stopped =
            !timedOut && drain.signal.aborted && reports.some((r) => r.state !== 'success')
              ? interrupted(runId, drain.signal, reports)
              : undefined;
          const state: RunSummary['state'] = timedOut
            ? 'timed_out'
            : stopped
              ? 'cancelled'
              : failed
                ? 'failed'
                : 'success';
          const error = timedOut
            ? `run ${runId} timed out: ${notStarted(timedOut) ? `${(stop.signal.reason as Error).message} before ${timedOut.task}` : timedOut.error}; what it was doing rolled back, the lease is released`
            : (stopped ?? failed?.error);
          const summary: RunSummary = {
            runId,
            kind,
            trigger,
            state,
            seconds: (performance.now() - started) / 1000,
            tasks: reports,
            ...(error !== undefined ? { error } : {}),
          };
          await connection.execute(
            `update ${runs} set state = $1, ended_at = ${d.now}, error = $2, summary = $3 where run_id = $4`,
            [summary.state, summary.error ?? null, JSON.stringify(summary), runId],
          );
          // The lease is released by `withPipeline` before the CLI prints this line.
          // A stopped run always ends the process; a timed-out one is returned like a failure.
          if (stopped || (timedOut && !options.returnFailed))
            throw new UserError(error as string, exitCodeOf(state, options.signal));
          // What `status` shows while the next run holds the warehouse (DuckDB's file lock, SPEC §7);
          // after a failure the source is not read again: it may be why the run failed.
          if (!stopped)
            await saveStatusSnapshot(
              warehouse,
              settings,
              { now: context.now, source: failed || timedOut || source === absentSource ? null : source },
              log,
            );
          if (failed && !options.returnFailed) {
            const cause = failed.cause;
            if (cause instanceof UserError) throw cause;
            throw new UserError(`run ${runId} failed in ${failed.task}: ${failed.error}`, ExitCode.failure, {
              cause,
            });
          }
          return summary;
        } finally {
          await connection.release();
        }
      },
      stop.signal,
      options.needsSource ?? true,
      options.warehouse,
    );
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    options.signal?.removeEventListener('abort', onOuter);
  }
};

/**
 * Inserts a run's ledger row under the next id and returns it. A skipped slot is recorded outside
 * the lease, so two inserts may take the same id: the one the key refuses takes the next.
 */
const insertRun = async (
  c: WarehouseConnection,
  runs: string,
  insert: (runId: number) => [string, Value[]],
): Promise<number> => {
  for (let attempt = 1; ; attempt++) {
    const last = await c.query<{ m: number }>(`select coalesce(max(run_id), 0) as m from ${runs}`);
    const runId = Number(last[0]?.m ?? 0) + 1;
    try {
      await c.execute(...insert(runId));
      return runId;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
};

/**
 * Records a run that did not start (`skipped`): its slot came while another run held the lease
 * (SPEC §7, catch-up off). Outside the lease, so its id may race the holder's: taken again then.
 */
export const recordSkipped = async (
  warehouse: Warehouse,
  settings: Settings,
  kind: RunKind,
  trigger: RunTrigger,
  reason: string,
): Promise<number> => {
  const meta = metaTables(settings.schemas);
  const runs = warehouse.dialect.table(meta.runs.schema, meta.runs.name);
  const now = timestampText(isoNow());
  return withConnection(warehouse, (c) =>
    insertRun(c, runs, (id) => [
      `insert into ${runs} (run_id, kind, state, started_at, ended_at, error, triggered_by)
       values ($1, $2, 'skipped', cast($3 as timestamp), cast($3 as timestamp), $4, $5)`,
      [id, kind, now, reason, trigger],
    ]),
  );
};
