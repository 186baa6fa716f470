import type { TimeoutName } from '../config/settings.js';
import type { Column, CopyTextBatch, Value } from '../engines/types.js';
import type { ResultRow, WarehouseConnection } from '../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from './context.js';
import { faultPoint, injectedFault } from './faults.js';
import type { Task, TaskScope } from './task.js';
import { transientReason } from './transient.js';

export interface TaskReport {
  readonly task: string;
  /**
   * `cancelled`: stopped or not started because the run was stopping (SIGTERM, SIGINT);
   * `timed_out`: its limit, or the run's, was reached and its statement cancelled on the server.
   */
  readonly state: 'success' | 'failed' | 'timed_out' | 'upstream_failed' | 'cancelled';
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
  /** Runs of the task: above 1 when a transient failure made it run again. */
  readonly attempts?: number;
}

/** The error of a task the run did not start because it was stopping. */
export const NOT_STARTED = 'not started: the run is stopping';

/** Why a running task was cancelled when the run was asked to stop (SIGTERM, SIGINT). */
class RunStopped extends Error {
  constructor(readonly task: string) {
    super(`${task} was cancelled: the run is stopping`);
    this.name = 'RunStopped';
  }
}

/** The abort reason of a run that reached its own limit (`timeouts.cycle`, `timeouts.monitor`). */
export class RunTimedOut extends Error {
  constructor(readonly limitSeconds: number) {
    super(`the run reached its limit of ${limitSeconds} s`);
    this.name = 'RunTimedOut';
  }
}

/** Why a task was cancelled on reaching its limit, or the run's. */
class TaskTimedOut extends Error {
  constructor(task: string, seconds: number, whose: 'its' | "the run's") {
    super(`${task} timed out after ${seconds} s (${whose} limit) and was cancelled`);
    this.name = 'TaskTimedOut';
  }
}

/** A task's limit in seconds: `timeouts.<task>` when set, else its SPEC §7 default. */
export const taskTimeoutSeconds = (task: Task, context: RunContext): number =>
  context.settings.timeouts[task.name as TimeoutName] ?? task.timeoutMinutes * 60;

/**
 * How long a failed, timed-out or stopped task gets to wind down (roll back, hand back its
 * sessions) before it is reported anyway: one that ignores its signal must not keep the run, and
 * its lease, past the grace a scheduler gives a stopping process.
 */
const windDownMs = 5_000;

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
  attempt: number,
): Promise<TaskReport> => {
  const controller = new AbortController();
  const limit = taskTimeoutSeconds(task, context);
  const timer = setTimeout(() => controller.abort(new TaskTimedOut(task.name, limit, 'its')), limit * 1000);
  const onOuter = (): void =>
    controller.abort(
      outer?.reason instanceof RunTimedOut
        ? new TaskTimedOut(task.name, outer.reason.limitSeconds, "the run's")
        : new RunStopped(task.name),
    );
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
  const run = injectedFault(task.name, context, controller.signal, attempt).then(() =>
    task.run(context, scope),
  );
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
    const reason: unknown = controller.signal.reason;
    const state =
      reason instanceof TaskTimedOut ? 'timed_out' : reason instanceof RunStopped ? 'cancelled' : 'failed';
    // A statement cancelled on the server fails with the server's words; the limit is the cause.
    const shown = state === 'failed' ? error : reason;
    return report({ state, error: firstLine(shown), cause: state === 'failed' ? error : reason });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
};

/**
 * `runOne`, again after a transient failure (`transientReason`: the connection refused or reset, a
 * deadlock, a serialization failure, Redshift's 1023), with a doubling wait, up to
 * `retries.attempts` runs. A task rolls back whole when it fails, so its next run starts from what
 * is committed. Every other failure, and a timeout, ends the task at once.
 */
const runRetried = async (
  task: Task,
  context: RunContext,
  outer: AbortSignal | undefined,
  drain: AbortSignal | undefined,
): Promise<TaskReport> => {
  const { attempts, baseDelaySeconds } = context.settings.retries;
  for (let attempt = 1; ; attempt++) {
    const report = await runOne(task, context, outer, attempt);
    const transient =
      report.state === 'failed' && attempt < attempts && !outer?.aborted && !drain?.aborted
        ? transientReason(report.cause, (e) => context.warehouse.isRetryable?.(e) === true)
        : null;
    if (transient === null) return { ...report, attempts: attempt };
    const waitMs = baseDelaySeconds * 1000 * 2 ** (attempt - 1);
    context.log.warn(
      { task: task.name, attempt, error: report.error, waitSeconds: waitMs / 1000 },
      `${transient}: running the task again`,
    );
    // A stop or the run's limit during the wait ends it: no attempt starts after either.
    const stops = [outer, drain].filter((x): x is AbortSignal => x !== undefined);
    const stopped = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      for (const signal of stops)
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
    });
    if (stopped) return { ...report, attempts: attempt };
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
  drain: AbortSignal | undefined,
  onReport: (report: TaskReport) => Promise<void>,
): Promise<TaskReport[]> => {
  const stopping = (): boolean => signal?.aborted === true || drain?.aborted === true;
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
      } else if (upstream.every((r) => r?.state === 'success') && stopping()) {
        // The run is stopping (SPEC §7): finish or cancel what runs, start nothing new.
        pending.delete(task);
        const now = new Date().toISOString();
        const report: TaskReport = {
          task: task.name,
          state: 'cancelled',
          startedAt: now,
          endedAt: now,
          seconds: 0,
          error: NOT_STARTED,
        };
        reports.set(task.name, report);
        await onReport(report);
      } else if (upstream.every((r) => r?.state === 'success')) {
        pending.delete(task);
        running.set(
          task.name,
          runRetried(task, context, signal, drain).then(async (report) => {
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
