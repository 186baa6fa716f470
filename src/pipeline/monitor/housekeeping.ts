import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';

/** SPEC §6 exceptions housekeeping. */
export const exceptionsTask: Task = {
  name: 'exceptions',
  after: [],
  timeoutMinutes: 30,
  async run(): Promise<TaskOutcome> {
    return { note: 'not built yet' };
  },
};
