import type { Settings } from '../config/settings.js';
import type { Warehouse } from '../engines/warehouse/warehouse.js';
import type { Logger } from '../runner/logger.js';
import type { RunSummary } from '../runner/run-cycle.js';

/** The next slots of `serve`'s two schedules, ISO 8601 UTC, earliest first. */
export interface NextSlots {
  readonly cycle: readonly string[];
  readonly monitor: readonly string[];
}

/** What `serve`'s HTTP side (dashboard, API, metrics) and its alerts share. */
export interface ServeContext {
  readonly settings: Settings;
  /**
   * The warehouse, open for serve's whole life and shared with the runs it starts: on DuckDB this
   * process may hold only one handle on the file, and reads beside a run need it.
   */
  readonly warehouse: Warehouse;
  readonly log: Logger;
  /** Where the dashboard answers, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** When serve started, ISO 8601. */
  readonly startedAt: string;
  /** The next `count` slots of each schedule. */
  nextSlots(count: number): NextSlots;
  /** Seconds between two cycle slots (readiness allows two of them since the last success). */
  readonly cycleIntervalSeconds: number;
  /** The run serve has going now, if any (kind and id), for the overview. */
  current(): { readonly kind: RunSummary['kind']; readonly since: string } | null;
}
