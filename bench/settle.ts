/**
 * Before a measured step, what the steps before it set going is finished first. On this 2-core
 * machine the aftermath of a bulk step otherwise lands in the next clock: PostgreSQL writing back
 * a checkpoint's worth of a 2 GB copy, autovacuum's pass over a fresh table, the kernel writing
 * back the generator's dirty pages, and whatever else keeps the CPUs busy (InnoDB's flushing shows
 * only that way: the bench does not ask MariaDB). A production cycle every 15 minutes follows none
 * of these. What settling did before each step is kept in the results.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { withConnection, type Warehouse } from '../src/engines/warehouse/warehouse.js';
import type { SettleRecord } from './results.js';

/** Below this share of busy CPU time (iowait included) over one sample, the machine counts as quiet. */
export const QUIET_BUSY_SHARE = 0.15;
// Half-second samples: a quiet second is as telling as two, and the bench settles some 80 times.
const SAMPLE_MS = 500;
/** Consecutive quiet samples needed. */
const QUIET_SAMPLES = 2;
/** The quiet span every settle waits at least. */
const QUIET_SECONDS = (SAMPLE_MS * QUIET_SAMPLES) / 1000;
/**
 * Never wait longer than this: a machine that stays busy is measured busy, and the results say so
 * (`quiet: false`). It also bounds what `--sf 0.02` can lose on a busy desktop.
 */
const MAX_WAIT_MS = 30_000;

export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** The `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal … (Linux only). */
export const parseCpuLine = (stat: string): CpuTimes | null => {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 8 || ticks.some((n) => !Number.isFinite(n))) return null;
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - (ticks[3] ?? 0), total };
};

/**
 * The busy share between two readings, or null when the counters did not move forward (a sandbox
 * that freezes them, or iowait running backwards as it can on tickless kernels): such a sample
 * proves nothing either way.
 */
export const busyShare = (before: CpuTimes, after: CpuTimes): number | null => {
  const total = after.total - before.total;
  const busy = after.busy - before.busy;
  if (total <= 0 || busy < 0) return null;
  return Math.min(1, busy / total);
};

const cpuTimes = (): CpuTimes | null =>
  existsSync('/proc/stat') ? parseCpuLine(readFileSync('/proc/stat', 'utf8')) : null;

/** Autovacuum workers running on any of the servers. */
const autovacuumWorkers = async (servers: readonly Warehouse[]): Promise<number> => {
  let n = 0;
  for (const warehouse of servers)
    n += await withConnection(warehouse, async (c) =>
      Number(
        (
          await c.query<{ n: number }>(
            `select count(*) as n from pg_stat_activity where backend_type = 'autovacuum worker'`,
          )
        )[0]?.n ?? 0,
      ),
    );
  return n;
};

/** CHECKPOINT needs a superuser (or, from PostgreSQL 15, the `pg_checkpoint` role). */
const checkpoint = async (servers: readonly Warehouse[]): Promise<SettleRecord['checkpoint']> => {
  if (servers.length === 0) return 'none';
  for (const warehouse of servers) {
    try {
      await withConnection(warehouse, (c) => c.execute('checkpoint'));
    } catch (error) {
      if ((error as { code?: unknown }).code === '42501') return 'denied';
      throw error;
    }
  }
  return 'done';
};

/**
 * Writes what earlier steps left dirty to disk (the page cache with `sync`, PostgreSQL's buffers
 * with CHECKPOINT), then waits until the CPUs are quiet for `QUIET_SAMPLES` samples (`QUIET_SECONDS`) in a row and
 * no autovacuum worker runs, at most `MAX_WAIT_MS`. Where /proc/stat cannot be read, only the
 * autovacuum wait applies and `quiet` is null.
 */
export const settle = async (before: string, servers: readonly Warehouse[]): Promise<SettleRecord> => {
  try {
    execFileSync('sync', { timeout: 60_000 });
  } catch {
    // No `sync` binary (Windows, a minimal image): the kernel writes back on its own schedule.
  }
  const checkpointed = await checkpoint(servers);
  const started = performance.now();
  let last = cpuTimes();
  const readable = last !== null;
  let quietInARow = 0;
  let quiet = false;
  while (performance.now() - started < MAX_WAIT_MS) {
    await sleep(SAMPLE_MS);
    const now = cpuTimes();
    const share = last && now ? busyShare(last, now) : null;
    last = now;
    const idle = readable ? share !== null && share < QUIET_BUSY_SHARE : true;
    quietInARow = idle && (await autovacuumWorkers(servers)) === 0 ? quietInARow + 1 : 0;
    if (quietInARow >= QUIET_SAMPLES) {
      quiet = true;
      break;
    }
  }
  return {
    before,
    waitedSeconds: Math.round((performance.now() - started) / 100) / 10,
    quiet: readable ? quiet : null,
    checkpoint: checkpointed,
  };
};

/** A progress line when settling took long, gave up, or could not checkpoint; else null. */
export const settleLine = (r: SettleRecord): string | null => {
  const notes: string[] = [];
  if (r.quiet === false)
    notes.push(`the machine stayed busy for ${r.waitedSeconds} s before ${r.before}; measuring anyway`);
  else if (r.waitedSeconds > QUIET_SECONDS + 1)
    notes.push(`waited ${r.waitedSeconds.toFixed(0)} s for the machine to go quiet before ${r.before}`);
  if (r.checkpoint === 'denied')
    notes.push(`CHECKPOINT before ${r.before} was denied (needs a superuser or pg_checkpoint)`);
  return notes.length > 0 ? notes.join('; ') : null;
};
