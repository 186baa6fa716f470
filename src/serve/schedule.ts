import { Cron } from 'croner';

/** One of serve's schedules: the cycle or the monitor, a cron expression read in a time zone. */
export interface Schedule {
  /** The next `count` slots, ISO 8601 UTC. */
  next(count: number): string[];
  stop(): void;
}

/**
 * Calls `onSlot` at each slot of `expression` (5 fields, or 6 with seconds) in `timezone`. Missed
 * slots are not caught up (SPEC §7): `croner` fires only slots still to come, and `onSlot` is
 * called for a slot even while the previous call runs, so serve can record it `skipped`.
 */
export const startSchedule = (
  expression: string,
  timezone: string,
  onSlot: (slot: Date) => void,
): Schedule => {
  const job = new Cron(expression, { timezone, protect: false }, () => onSlot(new Date()));
  return {
    next: (count) => iso(job.nextRuns(count)),
    stop: () => job.stop(),
  };
};

const iso = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());

/** The next `count` slots of `expression` in `timezone`, ISO 8601 UTC (`status` shows them). */
export const nextSlots = (expression: string, timezone: string, count: number): string[] =>
  iso(new Cron(expression, { timezone, paused: true }).nextRuns(count));

/** Seconds between the next two slots of `expression`: the cycle's interval for readiness. */
export const intervalSeconds = (expression: string, timezone: string): number => {
  const [a, b] = new Cron(expression, { timezone, paused: true }).nextRuns(2);
  return a && b ? Math.max(1, Math.round((b.getTime() - a.getTime()) / 1000)) : 900;
};
