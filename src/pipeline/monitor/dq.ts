import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';

/** SPEC §6: the seed's three data-quality checks, in parallel. */
export const dqTask: Task = {
  name: 'dq',
  after: [],
  timeoutMinutes: 30,
  async run(): Promise<TaskOutcome> {
    return { note: 'not built yet' };
  },
};
