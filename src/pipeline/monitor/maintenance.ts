import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';

/** SPEC §6: the engine's maintenance plan, one statement at a time, outside any transaction. */
export const maintenanceTask: Task = {
  name: 'maintenance',
  after: [],
  timeoutMinutes: 60,
  async run(): Promise<TaskOutcome> {
    return { note: 'not built yet' };
  },
};
