import { describe, expect, it } from 'vitest';
import { settlingLine } from '../../bench/report.js';
import { busyShare, parseCpuLine, settleLine } from '../../bench/settle.js';

describe('the bench settling the machine before a measured step', () => {
  it('counts every /proc/stat field but idle as busy, iowait included', () => {
    const stat = 'cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n';
    expect(parseCpuLine(stat)).toEqual({ busy: 200, total: 1000 });
  });

  it('gives null, not a wrong share, for a /proc/stat line it cannot read', () => {
    expect(parseCpuLine('cpu0 1 2 3 4 5 6 7 8\n')).toBeNull();
    expect(parseCpuLine('cpu  1 2 3\n')).toBeNull();
    expect(parseCpuLine('cpu  1 2 x 4 5 6 7 8\n')).toBeNull();
  });

  it('takes the busy share between two readings, and none from counters that did not move forward', () => {
    expect(busyShare({ busy: 200, total: 1000 }, { busy: 230, total: 1200 })).toBeCloseTo(0.15);
    expect(busyShare({ busy: 200, total: 1000 }, { busy: 200, total: 1000 })).toBeNull();
    expect(busyShare({ busy: 200, total: 1000 }, { busy: 190, total: 1100 })).toBeNull();
  });

  it('says when a step started on a busy machine or without a checkpoint, and stays quiet otherwise', () => {
    // The least a settle waits: two quiet half-second samples.
    const calm = { before: 'duckdb W1', waitedSeconds: 1.1, quiet: true, checkpoint: 'done' } as const;
    expect(settleLine(calm)).toBeNull();
    expect(settleLine({ ...calm, waitedSeconds: 4.5 })).toBe(
      'waited 5 s for the machine to go quiet before duckdb W1',
    );
    expect(settleLine({ ...calm, quiet: false, waitedSeconds: 30 })).toBe(
      'the machine stayed busy for 30 s before duckdb W1; measuring anyway',
    );
    expect(settleLine({ ...calm, checkpoint: 'denied' })).toMatch(/CHECKPOINT before duckdb W1 was denied/);
    expect(settlingLine([calm, { ...calm, before: 'pgloader', quiet: false, waitedSeconds: 30 }])).toBe(
      'settled before 2 measured steps (sync, CHECKPOINT, idle CPUs and no autovacuum): 31 s of waiting; still busy before pgloader',
    );
    const embedded = { ...calm, checkpoint: 'none' } as const;
    expect(settlingLine([embedded])).toBe(
      'settled before 1 measured step (sync and idle CPUs): 1 s of waiting',
    );
  });
});
