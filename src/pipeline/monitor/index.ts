import type { RunContext, TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { marts } from '../marts.js';
import { checkDrift } from '../tasks/check-drift.js';
import { martTask } from '../tasks/mart.js';
import { dataTests } from '../tasks/tests.js';
import { validate } from '../tasks/validate.js';
import { cleanupTask } from './cleanup.js';
import { dqTask } from './dq.js';
import { exceptionsTask } from './housekeeping.js';
import { maintenanceTask } from './maintenance.js';
import { reconciledTask, reconcileTask } from './reconcile.js';
import { monitorSteps, type MonitorStep } from './steps.js';

/** The cycle's task, skipped (a success with a note) when the reconcile re-extracted nothing. */
const whenReExtracted = (task: Task): Task => ({
  ...task,
  async run(ctx: RunContext, scope): Promise<TaskOutcome> {
    if ((ctx.state.batches ?? []).length === 0) return { note: 'nothing re-extracted' };
    return task.run(ctx, scope);
  },
});

/**
 * The reconcile's tasks: the differing days re-extracted, then the normal path (validate → marts →
 * tests) applies them, so deduplication and every home rule hold as in a cycle (SPEC §6).
 */
const reconcileTasks: readonly Task[] = [
  checkDrift,
  reconcileTask,
  { ...whenReExtracted(validate), after: ['reconcile'] },
  ...marts.map((m) => whenReExtracted(martTask(m))),
  whenReExtracted(dataTests),
  reconciledTask,
];

const stepTasks: Record<MonitorStep, readonly Task[]> = {
  reconcile: reconcileTasks,
  dq: [dqTask],
  exceptions: [exceptionsTask],
  cleanup: [cleanupTask],
  maintenance: [maintenanceTask],
};

/**
 * The daily monitor's task graph (SPEC §6), for the steps asked for, in `monitorSteps` order. Each
 * step waits for the one before it to end, whatever its state: a reconcile that could not run must
 * not keep the ledger from being tidied or the tables from being vacuumed.
 */
export const monitorTasks = (steps: readonly MonitorStep[]): Task[] => {
  const chosen = monitorSteps.filter((s) => steps.includes(s));
  const tasks: Task[] = [];
  let previous: string | undefined;
  for (const step of chosen) {
    const group = stepTasks[step];
    for (const [i, task] of group.entries())
      tasks.push(
        i === 0 && previous ? { ...task, afterEnded: [...(task.afterEnded ?? []), previous] } : task,
      );
    previous = group.at(-1)?.name;
  }
  return tasks;
};
