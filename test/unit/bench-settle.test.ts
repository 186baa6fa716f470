import { describe, expect, it } from 'vitest';
import { parseCpuLine } from '../../bench/settle.js';

describe('the bench reading /proc/stat before a measured step', () => {
  it('counts every field but idle as busy, iowait included', () => {
    const stat = 'cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n';
    expect(parseCpuLine(stat)).toEqual({ busy: 200, total: 1000 });
  });

  it('gives null, not a wrong share, for a line it cannot read', () => {
    expect(parseCpuLine('cpu0 1 2 3 4 5 6 7 8\n')).toBeNull();
    expect(parseCpuLine('cpu  1 2 3\n')).toBeNull();
    expect(parseCpuLine('cpu  1 2 x 4 5 6 7 8\n')).toBeNull();
  });
});
