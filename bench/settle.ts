/**
 * Before a measured step, what the steps before it left behind is finished first. On this 2-core
 * machine the aftermath of a bulk step otherwise lands in the next clock: PostgreSQL writing back
 * a checkpoint's worth of a 2 GB copy, autovacuum's first pass over a fresh table, InnoDB flushing
 * the generator's writes, the kernel writing back dirty pages. A production cycle every 15 minutes
 * does not follow any of these.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { platform } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { withConnection, type Warehouse } from '../src/engines/warehouse/warehouse.js';

/** Below this share of busy CPU time (iowait included) over one sample, the machine counts as quiet. */
export const QUIET_BUSY_SHARE = 0.15;
const SAMPLE_MS = 1000;
/** Consecutive quiet samples needed. */
const QUIET_SAMPLES = 2;
/** Never wait longer than this: a machine that stays busy is measured busy, and the result says so. */
const MAX_WAIT_MS = 120_000;

interface CpuTimes {
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

const cpuTimes = (): CpuTimes | null =>
  existsSync('/proc/stat') ? parseCpuLine(readFileSync('/proc/stat', 'utf8')) : null;

/**
 * Waits until the machine's CPUs are quiet for `QUIET_SAMPLES` seconds in a row. Returns the seconds
 * waited, or null where /proc/stat cannot be read (the bench then measures without waiting).
 */
export const waitForQuiet = async (): Promise<{ seconds: number; quiet: boolean } | null> => {
  let last = cpuTimes();
  if (!last) return null;
  const started = performance.now();
  let quietInARow = 0;
  while (performance.now() - started < MAX_WAIT_MS) {
    await sleep(SAMPLE_MS);
    const now = cpuTimes();
    if (!now) return null;
    const total = now.total - last.total;
    const share = total > 0 ? (now.busy - last.busy) / total : 0;
    last = now;
    quietInARow = share < QUIET_BUSY_SHARE ? quietInARow + 1 : 0;
    if (quietInARow >= QUIET_SAMPLES) return { seconds: (performance.now() - started) / 1000, quiet: true };
  }
  return { seconds: MAX_WAIT_MS / 1000, quiet: false };
};

/**
 * Writes what earlier steps left dirty to disk (the page cache with `sync`, PostgreSQL's buffers
 * with CHECKPOINT) and waits for the machine to go quiet. CHECKPOINT needs a superuser or the
 * `pg_checkpoint` role; without it the wait still applies. Returns a progress line when it had to
 * wait or gave up waiting.
 */
export const settle = async (servers: readonly Warehouse[]): Promise<string | null> => {
  if (platform() !== 'win32') execFileSync('sync');
  for (const warehouse of servers)
    await withConnection(warehouse, (c) => c.execute('checkpoint')).catch(() => undefined);
  const waited = await waitForQuiet();
  if (!waited) return null;
  if (!waited.quiet) return `the machine stayed busy for ${waited.seconds} s; measuring anyway`;
  return waited.seconds > QUIET_SAMPLES * (SAMPLE_MS / 1000) + 1
    ? `waited ${waited.seconds.toFixed(0)} s for the machine to go quiet`
    : null;
};
