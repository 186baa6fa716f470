/** What the benchmark measures, as data: printed by report.ts, written as JSON. */
import type { BenchPhase } from './phases.js';
import type { PgloaderResult } from './pgloader.js';
import type { ReferenceResult } from './reference.js';

export const WORKLOADS = ['W3', 'W1', 'W2', 'W4'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface TaskTiming {
  readonly task: string;
  readonly state: string;
  readonly seconds: number;
  readonly rows?: number;
  readonly rowsPerSecond?: number;
  readonly note?: string;
}

/** One mart statement of the cycle, from the mart tasks' debug log. */
export interface StatementTiming {
  readonly ms: number;
  readonly rows: number;
  readonly sql: string;
}

export interface WorkloadResult {
  readonly workload: WorkloadName;
  /** 1, 2, 3…: W3 repeats on a fresh warehouse, W1, W2 and W4 on the next batch or backlog. */
  readonly rep: number;
  readonly title: string;
  /** Rows written to the source for this workload, per table (inserts + in-place updates). */
  readonly sourceRows: Readonly<Record<string, number>>;
  /** Rows the cycle extracted, per table. */
  readonly extracted: Readonly<Record<string, number>>;
  readonly tasks: readonly TaskTiming[];
  /** The cycle (W3: init + cycle). */
  readonly seconds: number;
  readonly extractRowsPerSecond: number;
  readonly martsSeconds: number;
  readonly martsAndTestsSeconds: number;
  readonly martRowsPerSecond: number;
  /**
   * RSS of the engine's cycle process (`cycle-process.ts`) at the cycle's start, and its peak during
   * the cycle: the kernel's high-water mark when the cycle raised it, else the highest 50 ms sample.
   */
  readonly startRssMb: number;
  readonly peakRssMb: number;
  readonly memoryAtPeak: MemoryAtPeak;
  readonly slowestStatements: readonly StatementTiming[];
  readonly reference?: ReferenceResult;
  /** W4 (the monitor): raw rows per table before and after its cleanup. */
  readonly rawRows?: {
    readonly before: Readonly<Record<string, number>>;
    readonly after: Readonly<Record<string, number>>;
  };
}

export interface EngineResult {
  readonly engine: 'duckdb' | 'postgres';
  readonly warehouse: string;
  readonly source: string;
  readonly versions: readonly string[];
  /** Every repetition of every workload, in the order they ran. */
  readonly workloads: readonly WorkloadResult[];
  /** Mart and hist sizes after W3. */
  readonly loadedRows: Readonly<Record<string, number>>;
}

export interface GenerationResult {
  readonly step: string;
  readonly seconds: number;
  readonly rows: number;
}

/** One scale factor's run: its own sources and warehouses, every workload `reps` times. */
export interface ScaleResult {
  readonly sf: number;
  readonly historyEnd: string;
  readonly historyDays: number;
  readonly generation: readonly GenerationResult[];
  readonly engines: readonly EngineResult[];
  readonly pgloader?: PgloaderResult & { readonly oursRowsPerSecond?: number; readonly oursRows?: number };
  readonly settling: readonly SettleRecord[];
  /** PostgreSQL's bench database at the end of this SF's run (`pg_database_size`), bytes. */
  readonly postgresBytes?: number;
  /** The DuckDB file and the SQLite source at the last checkpoint, bytes. */
  readonly embeddedBytes: number;
  /** Where this SF's wall time went, seconds per phase (`phases.ts`); absent in results before 2026-12-07. */
  readonly phases?: Readonly<Record<BenchPhase | 'other', number>>;
}

export interface BenchResult {
  /** False in the file written after each workload while the run goes on. */
  readonly complete: boolean;
  readonly date: string;
  /** The product's git commit, `+ uncommitted changes` when the tree was dirty. */
  readonly revision: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGb: number;
    readonly os: string;
    readonly node: string;
  };
  readonly seed: number;
  /** Repetitions of each workload per SF. */
  readonly reps: number;
  /** In the order run (ascending SF). */
  readonly scales: readonly ScaleResult[];
  /** `process.resourceUsage().maxRSS` of the bench process (generation; the cycles run in their own). */
  readonly processMaxRssMb: number;
}

/** What the bench did before one measured step to start it on a settled machine (`settle.ts`). */
export interface SettleRecord {
  /** The step: `duckdb W1`, `pgloader`, `postgres W1 reference`… */
  readonly before: string;
  readonly waitedSeconds: number;
  /** The CPUs were idle for two seconds in a row; false: gave up waiting; null: not measurable here. */
  readonly quiet: boolean | null;
  readonly checkpoint: 'done' | 'denied' | 'none';
}

/** Where the process's memory was when its RSS peaked: V8 heap, Buffers, and the rest (native). */
export interface MemoryAtPeak {
  readonly heapUsedMb: number;
  readonly externalMb: number;
  /** RSS minus heap total and external: native allocations (DuckDB's buffer pool, SQLite, drivers). */
  readonly nativeMb: number;
  /**
   * The mart statements running at the highest sample (their first 100 characters); empty when
   * none was (the extraction, the data tests, a commit or the time between statements).
   */
  readonly during?: readonly string[];
}
