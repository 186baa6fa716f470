import { describe, expect, it } from 'vitest';
import { phaseClock } from '../../bench/phases.js';
import { phasesLine } from '../../bench/report.js';
import type { ScaleResult } from '../../bench/results.js';

describe('where the bench run’s time went', () => {
  it('counts each millisecond once, in the innermost phase, and the rest as other', async () => {
    let t = 0;
    const clock = phaseClock(() => t);
    t += 1_000; // before any phase: other
    await clock.time('reference', async () => {
      t += 2_000;
      await clock.time('settling', async () => {
        t += 3_000;
      });
      t += 4_000;
    });
    await clock
      .time('copies', async () => {
        t += 5_000;
        throw new Error('restore failed');
      })
      .catch(() => undefined);
    t += 500;
    expect(clock.seconds()).toEqual({
      cycles: 0,
      reference: 6,
      copies: 5,
      generation: 0,
      settling: 3,
      pgloader: 0,
      other: 1.5,
    });
  });

  it('prints the largest phases first, in minutes, and nothing for results without phases', () => {
    const scale = {
      sf: 1,
      phases: {
        cycles: 600,
        reference: 900,
        copies: 300,
        generation: 240,
        settling: 60,
        pgloader: 0,
        other: 6,
      },
    } as unknown as ScaleResult;
    expect(phasesLine(scale)).toBe(
      'this SF took 35.1 min: the reference and the floor 15.0 min, our cycles 10.0 min, ' +
        'copies, restores, VACUUM and drops 5.0 min, generating the sources 4.0 min, settling 1.0 min, the rest 0.1 min',
    );
    expect(phasesLine({ sf: 1 } as unknown as ScaleResult)).toBeNull();
  });
});
