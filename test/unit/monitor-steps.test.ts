/**
 * The monitor's graph and its report agree on which task belongs to which step, and `--only`
 * picks steps in their run order, whatever order it names them in.
 */
import { describe, expect, it } from 'vitest';
import { parseSteps } from '../../src/cli/monitor.js';
import { monitorTasks } from '../../src/pipeline/monitor/index.js';
import { groupSteps, stepTaskNames } from '../../src/pipeline/monitor/report.js';
import { monitorSteps } from '../../src/pipeline/monitor/steps.js';

describe('monitor steps', () => {
  it('runs each step as the tasks its report groups', () => {
    for (const step of monitorSteps)
      expect(monitorTasks([step]).map((t) => t.name)).toEqual(stepTaskNames[step]);
  });

  it('orders the chosen steps by the run order, each waiting for the one before to end', () => {
    const tasks = monitorTasks(parseSteps('maintenance,dq'));
    expect(tasks.map((t) => [t.name, t.after, t.afterEnded ?? []])).toEqual([
      ['dq', [], []],
      ['maintenance', [], ['dq']],
    ]);
    expect(parseSteps(undefined)).toEqual([...monitorSteps]);
  });

  it('sums a step over its tasks, shows the worst state and names the failed task', () => {
    const steps = groupSteps([
      { task: 'check_drift', state: 'success', seconds: 0.5 },
      { task: 'reconcile', state: 'success', seconds: 1, findings: 2, note: '21 checked, 2 differ' },
      { task: 'validate', state: 'failed', seconds: 0.25, error: 'validate: mismatch\nmore' },
      { task: 'cleanup', state: 'success', seconds: 2, note: 'raw: 5 deleted' },
    ]);
    expect(steps.map(({ details: _d, ...s }) => s)).toEqual([
      {
        step: 'reconcile',
        state: 'failed',
        seconds: 1.75,
        findings: 2,
        note: 'validate: validate: mismatch',
      },
      { step: 'cleanup', state: 'success', seconds: 2, findings: 0, note: 'raw: 5 deleted' },
    ]);
  });

  it('refuses a name that is not a step, naming it', () => {
    expect(() => parseSteps('dq,vacuum')).toThrow(
      '--only "vacuum" is not a monitor step: use one or more of reconcile, dq, exceptions, cleanup, maintenance',
    );
    expect(() => parseSteps(',')).toThrow(/is not a monitor step/);
  });
});
