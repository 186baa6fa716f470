import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';

/** SPEC §6 raw cleanup. */
export const cleanupTask: Task = {
  name: 'cleanup',
  after: [],
  timeoutMinutes: 60,
  async run(): Promise<TaskOutcome> {
    return { note: 'not built yet' };
  },
};
