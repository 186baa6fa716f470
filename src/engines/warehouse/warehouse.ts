import { ExitCode, UserError } from '../../config/errors.js';
import type { Column, CopyTextBatch, LogicalType, QuarantinedValue, Row, Value } from '../types.js';

/** What differs between warehouse engines, as flags the generic code reads (never `if engine === …`). */
export interface WarehouseCapabilities {
  /** DDL inside a transaction rolls back with it. */
  readonly transactionalDdl: boolean;
  /**
   * The planner counts a table by its committed rows only: one created in the open transaction is
   * planned as empty (DuckDB), so a join builds its hash table on it whatever its size. A mart's
   * batch (its delta, a temporary table) is then built and committed before the mart's transaction.
   */
  readonly estimatesCommittedRowsOnly: boolean;
  /** Text columns cannot hold U+0000 (PostgreSQL, Redshift): such a value is quarantined by name. */
  readonly rejectsNulInText: boolean;
  /** How `varchar(n)` counts: characters (PostgreSQL), bytes (Redshift), or not enforced (DuckDB). */
  readonly varcharCounts: 'chars' | 'bytes' | 'none';
  /**
   * Storage keeps each block's min/max and skips blocks a filter or a join's key range excludes
   * (DuckDB's zone maps). Mart and hist rows are then written in event-time order: a batch's
   * look-ups by key (mart_uts's key holds the event time) read the recent blocks, not the table.
   */
  readonly zoneMaps: boolean;
  /**
   * Staging keeps a batch row against its key's newest mart row by a left join into a new table,
   * where rows have no id (`rowId`) to delete the losers by (Redshift). Elsewhere the losing rows are
   * deleted from the deduplicated batch, which becomes the stage: no second copy of a backlog's
   * millions of rows to write, and PostgreSQL's rows stay in the order its insert relies on.
   */
  readonly stageByLeftJoin: boolean;
  /**
   * A column naming a row of a table for the length of a transaction (PostgreSQL's `ctid`, DuckDB's
   * `rowid`): the match records the batch's and the mart's rows by it, and the few losing or
   * replaced rows are deleted by it, not found again by key.
   */
  readonly rowId: 'ctid' | 'rowid' | null;
  /**
   * A data-modifying statement inside `with` (`with lost as (delete … returning …) delete …`):
   * PostgreSQL's; DuckDB and Redshift take one DML statement at a time.
   */
  readonly dmlInWith: boolean;
  /**
   * `select distinct on (key) … order by key, version desc` keeps the first row per key. PostgreSQL
   * then drops each key's losers while reading its sort, where `row_number()` first buffers every
   * partition in a window. Not on DuckDB (unmeasured there), nor Redshift (no DISTINCT ON).
   */
  readonly distinctOn: boolean;
  /**
   * A batch's rows already older than the retention cutoff go from the stage straight to their hist
   * tables, not into the mart and out again. DuckDB commits a table whose rows inserted in the
   * transaction saw a delete by appending them all again, chunk by chunk, dropping the row groups
   * its insert had already written, so an initial load's commit was slow and set the process's
   * memory peak. PostgreSQL only leaves the few moved rows dead, which costs less than a pass over
   * its stage to find them.
   */
  readonly archiveStageFirst: boolean;
  /** The widest decimal the engine stores (digits); a wider one is stored as text (`storedType`). */
  readonly maxDecimalPrecision: number;
  /**
   * The column that locates a row physically, so a large delete can go in bounded chunks of it
   * (PostgreSQL's `ctid`: each chunk a TID range scan, no lock held for long); `null` where one
   * statement per batch is fine (DuckDB: one writer, no row locks others wait on). A staged
   * batch's losing rows are deleted by `rowId`.
   */
  readonly rowLocator: 'ctid' | null;
  /**
   * Ids come from a sequence (`create sequence`, `nextval`); without one (Redshift) an id column is
   * an IDENTITY column of its table.
   */
  readonly sequences: boolean;
  /**
   * `delete from t as a`: the target of a DELETE takes an alias. Redshift's DELETE takes none, so
   * the statement refers to the target by its table name.
   */
  readonly deleteAlias: boolean;
  /**
   * `(a, b) in (select x, y …)`: an IN subquery over several columns. Redshift's IN subquery selects
   * one column, so a composite key is matched with EXISTS there.
   */
  readonly rowValueIn: boolean;
  /**
   * Storage skips blocks only for a predicate on constants, not for a join's key range (Redshift's
   * zone maps). A mart keyed by its event time (mart_uts) then looks the batch's time range up
   * first and writes it into the statements that read the mart and its hist tables as literals,
   * and leaves out the hist tables of periods the batch does not reach.
   */
  readonly rangeLiterals: boolean;
  /** `a is not distinct from b` (Redshift has no such predicate: `a = b or both null` instead). */
  readonly isDistinctFrom: boolean;
  /**
   * `alter table … add column if not exists` (an upgrade adds a column a release added). Redshift's
   * ADD COLUMN has no IF NOT EXISTS; no Redshift warehouse predates a column, so it is left out.
   */
  readonly addColumnIfNotExists: boolean;
  /**
   * Primary keys are declared in DDL. Redshift does not enforce them and its planner trusts them
   * (it may skip a DISTINCT), so they are left out there: uniqueness is the data tests' job.
   */
  readonly declaresKeys: boolean;
}

/**
 * How a table is laid out on an engine that distributes and sorts its rows (Redshift's DISTSTYLE,
 * DISTKEY and compound SORTKEY); the other engines ignore it.
 */
export interface TableLayout {
  readonly distStyle?: 'even' | 'all' | 'key' | 'auto';
  readonly distKey?: string;
  readonly sortKey?: readonly string[];
}

/**
 * The logical type a column of `type` has in this warehouse: a decimal wider than the engine holds
 * is stored as text, which keeps its digits exactly (a double would round them).
 */
export const storedType = (d: Dialect, type: LogicalType): LogicalType =>
  type.kind === 'decimal' && type.precision > d.capabilities.maxDecimalPrecision ? { kind: 'text' } : type;

/** What a load landed: its row count, and the values it stored as NULL or replaced (SPEC §5). */
export interface LoadResult {
  readonly rows: number;
  readonly quarantined: readonly QuarantinedValue[];
}

/** One engine's SQL spelling. Pure: planning code uses it to build statements without a connection. */
export interface Dialect {
  readonly name: 'duckdb' | 'postgres' | 'redshift';
  readonly capabilities: WarehouseCapabilities;
  /** Quotes one identifier, doubling embedded quotes. Every name in generated SQL goes through it. */
  quote(identifier: string): string;
  /** `schema.table`, both quoted. */
  table(schema: string, table: string): string;
  /** DDL type for a logical type. */
  columnType(type: LogicalType): string;
  /**
   * The transaction's start time as a `timestamp` expression: `current_timestamp`, or Redshift's
   * `sysdate` (its `current_timestamp` is a deprecated leader-node function, refused in a statement
   * that reads or writes a table).
   */
  readonly now: string;
  /** What follows a CREATE TABLE's column list for this layout (`''` where layouts mean nothing). */
  tableOptions(layout: TableLayout | undefined): string;
  /** An id column filled by the table itself (`bigint identity(1, 1)`), where `sequences` is false. */
  identityColumn(type: LogicalType): string;
  /**
   * `lock …` of the tables a transaction is about to write, as its first statement, or `null` where
   * row-level concurrency needs none. Redshift aborts one of two transactions whose reads and writes
   * overlap (serializable isolation, error 1023); locking first makes the second wait instead.
   */
  lockTables(tables: readonly string[]): string | null;
  /** Joins `expr` (text) with `separator` in `orderBy` order: `string_agg` or Redshift's `listagg`. */
  stringAgg(expr: string, separator: string, orderBy: string): string;
  /**
   * `create [unique] index if not exists …`, or `null` where the engine does better without one
   * (DuckDB: zone maps serve range scans and ART indexes slow bulk loads). `kind: 'range'` asks for
   * a cheap block-range index on an append-ordered column (PostgreSQL BRIN) where there is one.
   */
  createIndex(
    schema: string,
    table: string,
    columns: readonly string[],
    options?: { readonly unique?: boolean; readonly kind?: 'lookup' | 'range' },
  ): string | null;
  /**
   * Refreshes the planner's statistics of a table just filled (named as SQL names it: `table(…)`,
   * or a temporary table's bare name), or `null` where the engine needs none. PostgreSQL never
   * analyzes temporary tables on its own, and without it plans the next join as if the table held
   * a few hundred rows (hashes millions into a spilling table, or probes an index millions of times).
   */
  analyze(table: string): string | null;
  /**
   * A query of the server's row estimates for tables (columns `table_schema`, `table_name`, `n`),
   * or `null` where counting rows is cheap (DuckDB). `status` shows the estimate for a large table
   * rather than scan it: `count(*)` reads PostgreSQL's heap whole, minutes for a production mart.
   */
  rowEstimates(tables: readonly { readonly schema: string; readonly table: string }[]): {
    readonly sql: string;
    readonly params: readonly Value[];
  } | null;
}

export type ResultRow = Record<string, Value>;

/** Which run and batch a load belongs to: where a staged load keeps its files (Redshift's S3 prefix). */
export interface LoadTag {
  readonly runId: number;
  readonly batchId: number;
}

/** One warehouse session. Values are always bound parameters written `$1, $2, …` in SQL text. */
export interface WarehouseConnection {
  query<T extends ResultRow = ResultRow>(sql: string, params?: readonly Value[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed (0 for DDL). */
  execute(sql: string, params?: readonly Value[]): Promise<number>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Bulk-loads a stream of row batches into `schema.table` (COPY on PostgreSQL, the appender on
   * DuckDB). Memory stays bounded by one batch. A value the warehouse cannot hold (out of range,
   * not a number or date, too long for `varchar(n)`, U+0000 where text cannot hold it) is stored as
   * NULL and reported, a string holding U+FFFD reported once per row (`QuarantinedValue`); the rest
   * of the row lands. Returns the rows loaded and those values.
   */
  load(
    schema: string,
    table: string,
    columns: readonly Column[],
    rows: AsyncIterable<readonly Row[]>,
    tag?: LoadTag,
  ): Promise<LoadResult>;
  /**
   * `load` for batches the source already wrote as COPY text (`SourceSnapshot.streamCopyText`),
   * sent as they are, with the values the source quarantined while writing them. Only where COPY
   * text is the load format (PostgreSQL).
   */
  loadCopyText?(
    schema: string,
    table: string,
    columns: readonly Column[],
    batches: AsyncIterable<CopyTextBatch>,
  ): Promise<LoadResult>;
  /** Cancels the statement running on this session on the server (used by task timeouts). */
  cancel(): Promise<void>;
  /** Returns the session to its pool (or closes it). */
  release(): Promise<void>;
}

/** Held for the whole of a run; releasing it lets the next run start (SPEC §7). */
export interface Lease {
  release(): Promise<void>;
}

/** Another session's hold on the pipeline's lease, as far as the engine shows it. */
export interface ActiveLease {
  /**
   * The holder's process id, where the engine tells it: the process holding DuckDB's file lock, the
   * server backend holding PostgreSQL's advisory lock.
   */
  readonly pid: number | null;
  /** When the holder's session began, ISO-8601 UTC, where the engine shows it. */
  readonly since: string | null;
}

/**
 * The warehouse cannot be opened at all while a run holds it (DuckDB's file lock is the lease,
 * SPEC §7): exit 75, like a second run. `holder` is what the engine said about the holder.
 */
export class WarehouseBusyError extends UserError {
  constructor(
    message: string,
    readonly holder: ActiveLease,
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.busy, options);
    this.name = 'WarehouseBusyError';
  }
}

/** A table the monitor's maintenance step asks the engine about (SPEC §6). */
export interface MaintenanceTarget {
  readonly schema: string;
  readonly table: string;
  /** `ledger`: the exceptions ledger (`order_tracking_exceptions`). */
  readonly role: 'mart' | 'hist' | 'raw' | 'ledger';
  /** Which mart, for `role: 'mart'` (Redshift's rules differ by mart). */
  readonly mart?: 'mart_uti' | 'mart_ecs' | 'mart_uts';
}

/** One statement of an engine's maintenance plan, run on its own, outside any transaction. */
export interface MaintenanceStep {
  /** What the statement does, for the summary line: `VACUUM (ANALYZE)`, `CHECKPOINT`. */
  readonly action: string;
  readonly sql: string;
  /** `schema.table` as named (unquoted), or `null` for a statement on the whole database. */
  readonly table: string | null;
  /** Why the plan holds it (the rule, and what the engine's catalog said). */
  readonly reason: string;
}

/** `schema.table`, unquoted: how a maintenance step names its table and plans key catalog facts. */
export const targetName = (t: { readonly schema: string; readonly table: string }): string =>
  `${t.schema}.${t.table}`;

export interface Warehouse {
  readonly dialect: Dialect;
  /** The URL with its password redacted: the only form ever printed. */
  readonly displayUrl: string;
  connect(): Promise<WarehouseConnection>;
  /** The table's columns in order, lower-case, or `null` when the table does not exist. */
  describeTable(schema: string, table: string): Promise<Column[] | null>;
  /** Schemas that exist, among those asked for. */
  existingSchemas(names: readonly string[]): Promise<string[]>;
  /**
   * Whether a valid unique index on exactly these columns makes a duplicate key impossible in the
   * table (PostgreSQL); `false` where the engine enforces no uniqueness (DuckDB without indexes).
   */
  enforcesUnique(schema: string, table: string, columns: readonly string[]): Promise<boolean>;
  /**
   * Takes the one-run-at-a-time lease named `key`, or returns `null` at once when another process
   * holds it.
   */
  tryLease(key: string): Promise<Lease | null>;
  /**
   * Who holds the lease named `key`, or `null` when nobody does; read without trying to take it,
   * since a take that succeeded for a moment would turn a starting run away. Readers (`status`)
   * use it to say that a run is active. Absent where the engine cannot tell.
   */
  activeLease?(key: string): Promise<ActiveLease | null>;
  /**
   * The maintenance statements for these tables (SPEC §6), in the order to run them, each on its
   * own outside any transaction. The engine decides from its own rules and catalog (PostgreSQL
   * leaves out a hist table unchanged since it was last vacuumed and analyzed; DuckDB checkpoints
   * the database whatever the tables). `clock.now` is the run's clock, epoch seconds, for rules by
   * day of the week.
   */
  maintenancePlan(
    targets: readonly MaintenanceTarget[],
    clock: { readonly now: number },
  ): Promise<MaintenanceStep[]>;
  /**
   * Whether `error` is the engine saying a concurrent transaction made this one impossible, so the
   * task may run again from the start (Redshift's serializable isolation violation, error 1023).
   * Absent where the engine never says so to the pipeline's own transactions.
   */
  isRetryable?(error: unknown): boolean;
  /**
   * Deletes what failed loads left staged before `before` (Redshift's S3 parts, kept for diagnosis),
   * returning how many objects went; absent where loads stage nothing.
   */
  cleanStaging?(before: Date): Promise<number>;

  close(): Promise<void>;
}

/** Runs `fn` on a fresh session and always releases it. */
export const withConnection = async <T>(
  warehouse: Warehouse,
  fn: (connection: WarehouseConnection) => Promise<T>,
): Promise<T> => {
  const connection = await warehouse.connect();
  try {
    return await fn(connection);
  } finally {
    await connection.release();
  }
};
