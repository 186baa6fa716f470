import type { Column, CopyTextBatch, Value } from '../engines/types.js';
import type { ResultRow, WarehouseConnection } from '../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from './context.js';
import { faultPoint } from './faults.js';
import type { Task, TaskScope } from './task.js';

export interface TaskReport {
  readonly task: string;
  /** `cancelled`: not started, the run was stopping. */
  readonly state: 'success' | 'failed' | 'upstream_failed' | 'cancelled';
  readonly startedAt: string;
  readonly endedAt: string;
  readonly seconds: number;
  readonly rowsRead?: number;
  readonly rowsWritten?: number;
  readonly note?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly findings?: number;
  readonly error?: string;
  /** The thrown error, kept in memory for the CLI's exit code (not serialised). */
  readonly cause?: unknown;
  /** Runs of the task, when a transient conflict made it run more than once. */
  readonly attempts?: number;
}

/** Runs of a task whose every failure is one the warehouse calls retryable (`isRetryable`). */
export const RETRY_ATTEMPTS = 3;
/** The wait before the second run; doubled before each next one. */
const retryBaseMs = 1_000;

/** Why a running task was cancelled when the run was asked to stop (SIGTERM, SIGINT). */
class RunStopped extends Error {
  constructor(readonly task: string) {
    super(`${task} was cancelled: the run is stopping`);
    this.name = 'RunStopped';
  }
}

/**
 * How long a failed, timed-out or stopped task gets to wind down (roll back, hand back its
 * sessions) before it is reported anyway: one that ignores its signal must not keep the run, and
 * its lease, past the grace a scheduler gives a stopping process.
 */
const windDownMs = 10_000;

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
const settledWithin = async (promise: Promise<unknown>, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
};

/**
 * `connection`, refusing new statements once `signal` has aborted: cancelling on the server stops
 * the statement running at that moment only, and a task between two statements would otherwise go
 * on to its commit. Rollback stays possible: transactions end inside the connection.
 */
const stoppable = (connection: WarehouseConnection, signal: AbortSignal): WarehouseConnection => {
  const { loadCopyText } = connection;
  return {
    async query<T extends ResultRow = ResultRow>(sql: string, params?: readonly Value[]): Promise<T[]> {
      signal.throwIfAborted();
      return connection.query<T>(sql, params);
    },
    async execute(sql, params) {
      signal.throwIfAborted();
      return connection.execute(sql, params);
    },
    transaction: (fn) => connection.transaction(fn),
    async load(schema, table, columns, rows, tag) {
      signal.throwIfAborted();
      return connection.load(schema, table, columns, rows, tag);
    },
    ...(loadCopyText
      ? {
          async loadCopyText(
            schema: string,
            table: string,
            columns: readonly Column[],
            batches: AsyncIterable<CopyTextBatch>,
          ) {
            signal.throwIfAborted();
            return loadCopyText.call(connection, schema, table, columns, batches);
          },
        }
      : {}),
    cancel: () => connection.cancel(),
    release: () => connection.release(),
  };
};

/**
 * A scope whose sessions are cancelled on the server when `signal` aborts (SPEC §7 timeouts), and
 * `idle`, which resolves once every session it handed out is released.
 */
const scopeFor = (
  context: RunContext,
  signal: AbortSignal,
): { scope: TaskScope; idle: () => Promise<void> } => {
  let open = 0;
  let wake: (() => void) | undefined;
  const idle = async (): Promise<void> => {
    while (open > 0) await new Promise<void>((resolve) => (wake = resolve));
  };
  const scope: TaskScope = {
    signal,
    async withConnection(fn) {
      signal.throwIfAborted();
      const connection: WarehouseConnection = await context.warehouse.connect();
      open++;
      const cancel = (): void => void connection.cancel().catch(() => undefined);
      signal.addEventListener('abort', cancel, { once: true });
      try {
        return await fn(stoppable(connection, signal));
      } finally {
        signal.removeEventListener('abort', cancel);
        try {
          await connection.release();
        } finally {
          open--;
          wake?.();
        }
      }
    },
  };
  return { scope, idle };
};

const runOne = async (
  task: Task,
  context: RunContext,
  outer: AbortSignal | undefined,
): Promise<TaskReport> => {
  const controller = new AbortController();
  const timeoutMs = task.timeoutMinutes * 60_000;
  const timer = setTimeout(
    () =>
      controller.abort(
        new Error(`${task.name} timed out after ${task.timeoutMinutes} min and was cancelled`),
      ),
    timeoutMs,
  );
  const onOuter = (): void => controller.abort(new RunStopped(task.name));
  outer?.addEventListener('abort', onOuter, { once: true });
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const aborted = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
  );
  aborted.catch(() => undefined);
  const { scope, idle } = scopeFor(context, controller.signal);
  if (outer?.aborted) onOuter();
  faultPoint(`start:${task.name}`);
  const run = task.run(context, scope);
  let finished: TaskOutcome | undefined;
  run.then(
    (outcome) => void (finished = outcome),
    () => undefined,
  );
  const report = (outcome: Partial<TaskReport> & Pick<TaskReport, 'state'>): TaskReport => ({
    task: task.name,
    startedAt,
    endedAt: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    ...outcome,
  });
  try {
    const outcome = await Promise.race([run, aborted]);
    faultPoint(`after:${task.name}`);
    return report({ state: 'success', ...outcome });
  } catch (error) {
    context.log.debug({ err: error, task: task.name }, 'task failed');
    // Whatever the task left running (an extract's other tables) is cancelled, and the report
    // waits for the task to wind down: nothing it started may outlive its report, nor write
    // while the pipeline closes the warehouse and the source under it.
    if (!controller.signal.aborted) controller.abort(new Error(`${task.name} failed`));
    await settledWithin(Promise.allSettled([run, idle()]), windDownMs);
    // Done before the stop reached it (its commit was on the way): what it did is kept, say so.
    if (finished) return report({ state: 'success', ...finished });
    return report({ state: 'failed', error: firstLine(error), cause: error });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
};

/**
 * `runOne`, again after a failure the warehouse calls transient (Redshift's serializable isolation
 * violation: another transaction committed first), with a doubling wait, up to `RETRY_ATTEMPTS`
 * runs. A task rolls back whole when it fails, so its next run starts from what is committed.
 */
const runRetried = async (
  task: Task,
  context: RunContext,
  outer: AbortSignal | undefined,
): Promise<TaskReport> => {
  for (let attempt = 1; ; attempt++) {
    const report = await runOne(task, context, outer);
    const retry =
      report.state === 'failed' &&
      attempt < RETRY_ATTEMPTS &&
      !outer?.aborted &&
      context.warehouse.isRetryable?.(report.cause) === true;
    if (!retry) return attempt > 1 ? { ...report, attempts: attempt } : report;
    context.log.warn(
      { task: task.name, attempt, error: report.error },
      'transient conflict, running the task again',
    );
    await new Promise((resolve) => setTimeout(resolve, retryBaseMs * 2 ** (attempt - 1)));
  }
};

/**
 * Runs a task graph: each task starts as soon as every task it comes after has succeeded, so
 * independent tasks run in parallel. A failed task marks everything downstream `upstream_failed`.
 * `onReport` is called as each task settles (the run ledger).
 */
export const executeGraph = async (
  tasks: readonly Task[],
  context: RunContext,
  signal: AbortSignal | undefined,
  onReport: (report: TaskReport) => Promise<void>,
): Promise<TaskReport[]> => {
  const reports = new Map<string, TaskReport>();
  const running = new Map<string, Promise<void>>();
  const pending = new Set(tasks);
  while (pending.size > 0 || running.size > 0) {
    for (const task of [...pending]) {
      // An ordering-only predecessor left out of the graph (a monitor step not selected) is no wait.
      const ordered = (task.afterEnded ?? []).filter((name) => tasks.some((t) => t.name === name));
      if (ordered.some((name) => !reports.has(name))) continue;
      const upstream = task.after.map((name) => reports.get(name));
      if (upstream.some((r) => r && r.state !== 'success')) {
        pending.delete(task);
        const now = new Date().toISOString();
        const report: TaskReport = {
          task: task.name,
          state: 'upstream_failed',
          startedAt: now,
          endedAt: now,
          seconds: 0,
        };
        reports.set(task.name, report);
        await onReport(report);
      } else if (upstream.every((r) => r?.state === 'success') && signal?.aborted) {
        // The run is stopping (SPEC §7): finish or cancel what runs, start nothing new.
        pending.delete(task);
        const now = new Date().toISOString();
        const report: TaskReport = {
          task: task.name,
          state: 'cancelled',
          startedAt: now,
          endedAt: now,
          seconds: 0,
          error: 'not started: the run is stopping',
        };
        reports.set(task.name, report);
        await onReport(report);
      } else if (upstream.every((r) => r?.state === 'success')) {
        pending.delete(task);
        running.set(
          task.name,
          runRetried(task, context, signal).then(async (report) => {
            reports.set(task.name, report);
            running.delete(task.name);
            await onReport(report);
          }),
        );
      }
    }
    if (running.size > 0) await Promise.race(running.values());
    else if (pending.size > 0)
      throw new Error(
        `task graph has a cycle or a missing task: ${[...pending].map((t) => t.name).join(', ')}`,
      );
  }
  return tasks.map((t) => reports.get(t.name) as TaskReport);
};
