import type { Settings } from '../config/settings.js';
import type { CursorRange, Source } from '../engines/source/source.js';
import type { Column } from '../engines/types.js';
import type { Warehouse } from '../engines/warehouse/warehouse.js';
import type { MartName } from '../pipeline/marts.js';
import type { ReconcileDay } from '../pipeline/monitor/reconcile-sql.js';
import type { SourceTableName } from '../pipeline/tables.js';
import type { BatchRange } from '../pipeline/tests-sql.js';
import type { Watermark } from '../pipeline/windows.js';
import type { Logger } from './logger.js';

export interface LandedBatch {
  readonly table: SourceTableName;
  readonly batchId: number;
  readonly range: CursorRange;
  readonly sourceCount: number;
  readonly landedCount: number;
  /** The watermark this batch moves the table's to, once validated (`null`: none yet). */
  readonly watermark: Watermark | null;
  /** Rows above the window stamped more than a day ahead: FUTURE_TIMESTAMP, not landed (SPEC §5). */
  readonly future: number;
  /** A reconcile batch (SPEC §6): a day re-read over another column; it moves no watermark. */
  readonly keepWatermark?: boolean;
}

/** What the tasks of one run share. Tasks fill `state` in DAG order. */
export interface RunContext {
  readonly settings: Settings;
  readonly warehouse: Warehouse;
  readonly source: Source;
  readonly runId: number;
  /** The run's clock, epoch seconds (injectable for replays and tests). */
  readonly now: number;
  readonly log: Logger;
  readonly state: {
    /** Source columns per table after check_drift, in source order (lower-case names). */
    columns?: ReadonlyMap<SourceTableName, readonly Column[]>;
    windows?: ReadonlyMap<SourceTableName, CursorRange>;
    /** Each table's watermark as calc_window read it (`null`: none yet, or over another column). */
    watermarks?: ReadonlyMap<SourceTableName, Watermark | null>;
    /** The batches this run landed: one per table in the cycle, one per table and day in reconcile. */
    batches?: readonly LandedBatch[];
    /** Rows each mart changed, by kind (`inserted`, `archived:2025_h2`, `exceptions:NULL_ORDER_ID`…). */
    martCounts?: Readonly<Record<string, Readonly<Record<string, number>>>>;
    /** The monitor's reconcile: each table-day compared, before any re-extraction (SPEC §6). */
    reconcile?: readonly ReconcileDay[];
    /** The raw batches each mart applied in this run: what the data tests check. */
    martRanges?: Readonly<Partial<Record<MartName, BatchRange>>>;
  };
}

/** What a task reports for the run ledger and the summary. */
export interface TaskOutcome {
  readonly rowsRead?: number;
  readonly rowsWritten?: number;
  /** One line for the summary, e.g. `+1 column on uni_tracking_info`. */
  readonly note?: string;
  /** What a monitor step checked, found and changed, for `--json` and the run ledger's summary. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Findings (rows that differ, failing orders): data, not failures; `--fail-on-findings` exits 1. */
  readonly findings?: number;
}
