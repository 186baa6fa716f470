import type { Task } from '../../runner/task.js';
import { calcWindowTask } from './calc-window.js';
import { checkDrift } from './check-drift.js';
import { extract } from './extract.js';
import { validate } from './validate.js';

/** The 15-minute cycle's task graph (SPEC §3), in dependency order. */
export const cycleTasks: readonly Task[] = [checkDrift, calcWindowTask, extract, validate];
