import type { StepReport } from '../monitor/report.js';
import type { ActiveLease } from '../../engines/warehouse/warehouse.js';
import type { MartName } from '../marts.js';
import type { SourceTableName } from '../tables.js';

/** How many runs `status` shows. */
export const RECENT_RUNS = 10;

export interface RunLine {
  readonly runId: number;
  readonly kind: string;
  readonly state: string;
  /** ISO-8601 UTC. */
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** `null` while running (or when a crashed run never recorded its end). */
  readonly seconds: number | null;
  /** The error's first line. */
  readonly error: string | null;
}

export interface WatermarkLine {
  readonly table: SourceTableName;
  readonly cursorColumn: string;
  readonly kind: 'id' | 'time';
  /** `null`: no validated batch yet. Exact (`--json`: a number while exact, else its text). */
  readonly value: bigint | null;
  readonly updatedAt: string | null;
  /** `time` cursors: now − watermark, seconds (negative: the watermark is ahead of the clock). */
  readonly lagSeconds: number | null;
  /** With a source configured: its greatest cursor value now. */
  readonly sourceMax: bigint | null;
  /** `id` cursors: how far the watermark trails the source's max id. */
  readonly idsBehind: bigint | null;
  /** `time` cursors: the watermark is ahead of the clock, so the next run stops with this fix. */
  readonly ahead: string | null;
  /** Why a value is missing (a changed cursor, an unreadable source). */
  readonly note: string | null;
}

export interface TableCount {
  readonly schema: string;
  readonly table: string;
  readonly exists: boolean;
  /** 0 when the table does not exist. */
  readonly rows: number;
  /** `rows` is the server's estimate, not a count (`ESTIMATED_FROM`). */
  readonly estimated: boolean;
}

/**
 * Tables the server estimates at this many rows or more are reported by the estimate (marked as
 * such) instead of counted: on PostgreSQL `count(*)` reads the table whole, seconds for a bench mart
 * and minutes for a production mart, where `status` is what one runs to look around.
 */
export const ESTIMATED_FROM = 1_000_000;

export interface HistTable extends TableCount {
  readonly mart: MartName;
}

export interface HistPeriod {
  /** `2025_h2`. */
  readonly period: string;
  readonly rows: number;
  /** Some of the period's tables are estimated. */
  readonly estimated: boolean;
  readonly tables: readonly HistTable[];
}

export interface OpenExceptions {
  readonly type: string;
  /** Open exceptions of the type. */
  readonly count: number;
  /** The earliest and latest detection among them, ISO-8601 UTC. */
  readonly oldest: string | null;
  readonly newest: string | null;
}

/** One step of a monitor run (SPEC §6), without its details. */
export type MonitorStepLine = Omit<StepReport, 'details'>;

/** The latest monitor run of the ledger (`runs` with kind `monitor`). */
export interface LastMonitor {
  readonly runId: number;
  /** `success`, `failed`, `timed_out`, `cancelled`, `skipped`, `running`, `abandoned`. */
  readonly state: string;
  /** ISO-8601 UTC. */
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** `null` while running, or when it never recorded its end. */
  readonly seconds: number | null;
  /** The error's first line. */
  readonly error: string | null;
  /** The steps' findings summed. */
  readonly findings: number;
  /** The steps it ran, in the order they run; empty while running or without a summary. */
  readonly steps: readonly MonitorStepLine[];
}

export interface ScheduleLine {
  readonly cycle: string;
  readonly monitor: string;
  readonly timezone: string;
  readonly next: { readonly cycle: readonly string[]; readonly monitor: readonly string[] };
}

/** Everything `order-tracking status` reports (SPEC §8); `--json` prints it as is. */
export interface StatusReport {
  readonly warehouse: string;
  /** The clock lags are measured against, epoch seconds. */
  readonly now: number;
  readonly source: {
    readonly url: string;
    readonly error: string | null;
    /** The source server's clock, epoch seconds, when it could be read. */
    readonly clock: number | null;
    /** Its clock minus ours, seconds (negative: behind ours). */
    readonly clockSkew: number | null;
    /**
     * Set when the clocks differ by more than a time cursor's overlap: rows stamped ahead of our
     * clock wait for it to catch up (a day ahead: FUTURE_TIMESTAMP), and lags mislead.
     */
    readonly clockWarning: string | null;
  } | null;
  readonly runs: readonly RunLine[];
  readonly watermarks: readonly WatermarkLine[];
  readonly tables: { readonly raw: readonly TableCount[]; readonly marts: readonly TableCount[] };
  readonly hist: readonly HistPeriod[];
  readonly exceptions: { readonly open: number; readonly byType: readonly OpenExceptions[] };
  /** The latest monitor run, or `null`: none yet. */
  readonly lastMonitor: LastMonitor | null;
  /** `serve`'s schedule and its next slots (ISO 8601 UTC), from the settings. */
  readonly schedule?: ScheduleLine;
  /** The `serve` running for this pipeline on this machine, or `null`. */
  readonly serve?: { readonly url: string; readonly pid: number; readonly startedAt: string } | null;
  /** A run holding the pipeline's lease as `status` read (SPEC §7), or `null`; set by the reader. */
  readonly activeRun?: ActiveLease | null;
  /**
   * Set when this is the last snapshot rather than a live read: a run held the embedded
   * warehouse's file, so it could not be opened. `takenAt` is when the snapshot was written.
   */
  readonly snapshot?: { readonly takenAt: string } | null;
}
