import type { Schemas } from '../../config/settings.js';
import type { Column } from '../../engines/types.js';
import type { TableLayout } from '../../engines/warehouse/warehouse.js';
import type { Period } from '../periods.js';

/** What a mart's plan is made from: the run's facts, read from the warehouse before it starts. */
export interface MartFacts {
  readonly schemas: Schemas;
  /** The mart's columns in table order (source columns lower-cased, then `_batch_id`, `_loaded_at`). */
  readonly columns: readonly Column[];
  /** Raw batches `(fromBatch, toBatch]` are consumed by this run. */
  readonly fromBatch: number;
  readonly toBatch: number;
  /** The run's clock, epoch seconds. */
  readonly now: number;
  /**
   * The mart holds no row and has no consumption mark yet (the initial load): the batch has no key
   * to look up in it, and the match is planned empty.
   */
  readonly martEmpty?: boolean;
  /**
   * Event times before this (epoch seconds, `Settings.timestampFloor`) are no real event: such rows
   * stay out of the mart under a TIMESTAMP_BEFORE_FLOOR, and never make a hist table (SPEC §5).
   */
  readonly floor: number;
  /**
   * The source table has open BAD_VALUE exceptions: rows holding a value the load stored as NULL
   * are kept out (SPEC §5). Without any, the stage's SQL is the clean path's.
   */
  readonly badValues: boolean;
  /** Hist tables of this mart that exist now. */
  readonly histTables: readonly string[];
  /** Archive periods that must not be written (`Settings.frozenPeriods`, SPEC §4 safety net). */
  readonly frozen: readonly string[];
  /**
   * The raw batches holding rows of open FUTURE_TIMESTAMP exceptions of this table that are now
   * due and not in its held table (`planFutureBatches`): those rows join the batch. Empty when
   * none is due; `all` when a batch read by a cursor other than the id or the timestamp may hold
   * one (raw is searched whole).
   */
  readonly futureBatches: readonly number[] | 'all';
  /**
   * The source's held table (`heldTableName`): `create` where it is missing or its columns are not
   * the mart's (an older release, a schema change), and the plan creates it empty, every due row
   * then read from raw by `futureBatches`; `due` where a row in it is now due; else `idle`.
   */
  readonly held: 'create' | 'due' | 'idle';
  /**
   * The batch's event times, oldest and newest, where the engine prunes by literal ranges only
   * (`rangeLiterals`) and the mart's key holds the time: read from the deduplicated batch, then
   * written into the statements that look its keys up.
   */
  readonly batchRange?: { readonly lo: number; readonly hi: number };
  /** The layout of the hist tables this run creates (Redshift; `src/pipeline/layouts.ts`). */
  readonly histLayout?: TableLayout;
  /** mart_ecs only: uni_tracking_info batches `(fromUtiBatch, toUtiBatch]` mart_uti consumed since. */
  readonly fromUtiBatch?: number;
  readonly toUtiBatch?: number;
}

/** What one archive pass is planned from: a cutoff and the periods holding rows older than it. */
export interface ArchiveFacts {
  readonly schemas: Schemas;
  readonly columns: readonly Column[];
  /** Rows with a timestamp below this leave the mart (SPEC §4). */
  readonly cutoff: number;
  /** Periods holding aged rows, oldest first. */
  readonly periods: readonly Period[];
  readonly frozen: ReadonlySet<string>;
  /** Hist tables of this mart that exist already. */
  readonly existing: readonly string[];
  readonly histLayout?: TableLayout;
}
