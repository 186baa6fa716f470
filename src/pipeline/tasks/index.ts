import type { Task } from '../../runner/task.js';
import { marts } from '../marts.js';
import { calcWindowTask } from './calc-window.js';
import { checkDrift } from './check-drift.js';
import { extract } from './extract.js';
import { martTask } from './mart.js';
import { dataTests } from './tests.js';
import { validate } from './validate.js';

/**
 * The 15-minute cycle's task graph (SPEC §3): check_drift → calc_window → extract → validate →
 * mart_uti → (mart_ecs ∥ mart_uts) → tests. The runner starts each task when its `after` tasks
 * succeeded, so mart_ecs and mart_uts run in parallel.
 */
export const cycleTasks: readonly Task[] = [
  checkDrift,
  calcWindowTask,
  extract,
  validate,
  ...marts.map(martTask),
  dataTests,
];
