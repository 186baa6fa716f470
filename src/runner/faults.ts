import { existsSync, writeFileSync } from 'node:fs';
import type { RunContext } from './context.js';

/**
 * Crash injection for the crash-safety tests: `ORDER_TRACKING_FAULT=after:extract` kills the
 * process with SIGKILL at that point (also `start:<task>`, `during:extract`, `during:mart_uti`…),
 * exactly as an OOM kill or a lost host would;
 * `ORDER_TRACKING_FAULT=term:during:extract` sends it SIGTERM there instead, as a scheduler
 * stopping the run would, and `int:during:extract` SIGINT, as Ctrl-C in a terminal would;
 * `pause:during:mart_uts` holds the run there (see `pause`). Never set in production; a no-op
 * unless the variable names this point.
 */
export const faultPoint = (point: string): void => {
  const fault = process.env.ORDER_TRACKING_FAULT;
  if (fault === point) process.kill(process.pid, 'SIGKILL');
  else if (fault === `term:${point}`) signalHere('SIGTERM');
  else if (fault === `int:${point}`) signalHere('SIGINT');
  else if (fault === `pause:${point}`) pause();
};

/**
 * The process's own handlers run at this very point, as if the signal had arrived here: a signal a
 * process sends itself reaches its handler on a later turn of the event loop, which after a task
 * may already be inside the next one. With no handler installed, the signal itself.
 */
const signalHere = (signal: 'SIGTERM' | 'SIGINT'): void => {
  if (process.listenerCount(signal) > 0) process.emit(signal, signal);
  else process.kill(process.pid, signal);
};

/** The longest a paused run waits, so a test that dies never leaves a run holding the lease. */
const PAUSE_LIMIT_MS = 120_000;

/**
 * Holds a run mid-way, with its lease, its transaction and the warehouse file, so a test can look
 * at the warehouse from outside: writes the process id to `ORDER_TRACKING_PAUSE_FILE` and waits
 * until that file is deleted. Blocks the whole process (the point is synchronous).
 */
const pause = (): void => {
  const file = process.env.ORDER_TRACKING_PAUSE_FILE;
  if (!file)
    throw new Error('ORDER_TRACKING_FAULT=pause:… needs ORDER_TRACKING_PAUSE_FILE, the file to wait on');
  writeFileSync(file, String(process.pid));
  const tick = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + PAUSE_LIMIT_MS;
  while (existsSync(file) && Date.now() < until) Atomics.wait(tick, 0, 0, 50);
};

/**
 * `ORDER_TRACKING_FAULT=lose-row:extract`: the first batch of each table loses its last row on its
 * way to raw, as a driver or a load that silently dropped one would. Validate has to catch it.
 */
export const losesRow = (point: string): boolean => process.env.ORDER_TRACKING_FAULT === `lose-row:${point}`;

const PG_SQLSTATE = /^[0-9A-Z]{5}$/;
const MYSQL_ERRNO = /^\d{4}$/;

/**
 * `ORDER_TRACKING_FAULT=transient:<task>:<code>`: the task's first attempt fails with that error,
 * raised by the server itself so it reaches the runner as the driver reports it: a PostgreSQL
 * SQLSTATE (`40P01`) raised by the warehouse, a MySQL error number (`1213`) signalled by the
 * source. The retry tests (SPEC §7) inject deadlocks and serialization failures this way.
 * `slow:<task>:<seconds>` holds every attempt of the task that long first, abortably.
 */
export const injectedFault = async (
  task: string,
  context: RunContext,
  signal: AbortSignal,
  attempt: number,
): Promise<void> => {
  const fault = process.env.ORDER_TRACKING_FAULT;
  const slow = /^slow:([a-z_]+):(\d+)$/.exec(fault ?? '');
  // `slow:<task>:<seconds>`: the task waits that long first (a slow cycle for the scheduler tests).
  if (slow?.[1] === task) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, Number(slow[2]) * 1000);
      signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), {
        once: true,
      });
    });
    return;
  }
  const prefix = `transient:${task}:`;
  if (attempt > 1 || !fault?.startsWith(prefix)) return;
  const code = fault.slice(prefix.length);
  if (MYSQL_ERRNO.test(code)) {
    const source = context.settings.source;
    if (source?.kind !== 'mysql') throw new Error(`fault ${fault} needs a MySQL source`);
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: source.url });
    try {
      await connection.query(
        `signal sqlstate '40001' set mysql_errno = ${Number(code)}, message_text = 'injected fault ${code}'`,
      );
    } finally {
      await connection.end();
    }
  } else if (PG_SQLSTATE.test(code)) {
    const connection = await context.warehouse.connect();
    try {
      await connection.execute(
        `do $$ begin raise exception 'injected fault ${code}' using errcode = '${code}'; end $$`,
      );
    } finally {
      await connection.release();
    }
  } else throw new Error(`fault ${fault}: ${code} is neither a SQLSTATE nor a MySQL error number`);
};
