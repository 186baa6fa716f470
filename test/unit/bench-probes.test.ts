import { describe, expect, it } from 'vitest';
import { runningAt, statementRecorder } from '../../bench/probes.js';

describe('the bench probes', () => {
  it('names the mart statements that were running at a moment of the cycle, and none between them', async () => {
    const { log, statements } = statementRecorder();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    log.debug(
      { ms: Math.round(performance.now() - started), rows: 5, sql: 'create temporary table ot_delta' },
      'statement',
    );
    const between = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const second = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    log.debug({ ms: Math.round(performance.now() - second), rows: 5, sql: 'insert into mart' }, 'statement');

    expect(runningAt(statements, started + 10)).toEqual(['create temporary table ot_delta']);
    expect(runningAt(statements, second + 10)).toEqual(['insert into mart']);
    expect(runningAt(statements, between + 10)).toEqual([]);
  });
});
