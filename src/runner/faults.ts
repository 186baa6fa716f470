import { existsSync, writeFileSync } from 'node:fs';

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
  else if (fault === `term:${point}`) process.kill(process.pid, 'SIGTERM');
  else if (fault === `int:${point}`) process.kill(process.pid, 'SIGINT');
  else if (fault === `pause:${point}`) pause();
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
