import type { Schemas } from '../../config/settings.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { deleteFrom, sameValues } from '../mart-sql/fragments.js';
import { exceptionsTable, metaTables } from '../meta.js';
import { stmt, type Statement } from '../statement.js';
import { rawTableName, type SourceTableName } from '../tables.js';

/** Rows per chunked delete where the engine locates rows physically (`rowLocator`). */
export const CLEANUP_CHUNK_ROWS = 50_000;

/** The consumption-mark row the cleanup keeps per raw table: batches up to it were deduplicated. */
export const DEDUPE_MARK = 'raw_dedupe';

/** The row is no source row an open exception points at (SPEC §6: never deleted). */
const notHeld = (d: Dialect, schemas: Schemas, table: SourceTableName, row: string): string => {
  const e = exceptionsTable(schemas);
  return `not exists (select 1 from ${d.table(e.schema, e.name)} e
                   where e.source_table = '${table}' and e.source_id = ${row}.id and e.resolved_at is null)`;
};

/**
 * The batches of `table` the retention may delete (`batch_id`, `landed_count`): validated, at or
 * below every consumption mark of the table (a mart that never ran marks nothing), created before
 * `before` (the run's clock less the retention), with rows left in raw.
 */
export const planExpiredBatches = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  martName: string,
  before: string,
): Statement => {
  const m = metaTables(schemas);
  const marks = d.table(m.martState.schema, m.martState.name);
  return stmt(
    `select b.batch_id, b.landed_count
  from ${d.table(m.batches.schema, m.batches.name)} b
 where b.table_name = $1 and b.state = 'validated' and b.created_at < cast($2 as timestamp)
   and b.batch_id <= coalesce((select batch_id from ${marks} where mart = $3 and source_table = $1), 0)
   and b.batch_id <= coalesce((select min(batch_id) from ${marks} where source_table = $1 and mart <> '${DEDUPE_MARK}'), 0)
   and exists (select 1 from ${d.table(schemas.raw, rawTableName(table))} r where r._batch_id = b.batch_id)
 order by b.batch_id`,
    [table, before, martName],
  );
};

/** Deletes one batch's rows but those an open exception points at: one statement, or one chunk. */
export const planDeleteBatch = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  batchId: number,
  chunked: boolean,
): Statement => {
  const raw = d.table(schemas.raw, rawTableName(table));
  const where = `r._batch_id = $1 and ${notHeld(d, schemas, table, 'r')}`;
  if (!chunked || d.capabilities.rowLocator === null) {
    const target = deleteFrom(d, raw, 'r');
    return stmt(
      `${target.head} where ${target.ref}._batch_id = $1 and ${notHeld(d, schemas, table, target.ref)}`,
      [batchId],
      'deleted',
    );
  }
  const at = d.capabilities.rowLocator;
  return stmt(
    `delete from ${raw} where ${at} = any(array(select r.${at} from ${raw} r where ${where} limit ${CLEANUP_CHUNK_ROWS}))`,
    [batchId],
    'deleted',
  );
};

/**
 * The consumed batches of `table` after the dedupe mark (`batch_id`, `cursor_column`,
 * `window_from`), oldest first, up to the table's consumption marks: those whose re-read overlap
 * may repeat rows of the batches before.
 */
export const planDedupeBatches = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  martName: string,
): Statement => {
  const m = metaTables(schemas);
  const marks = d.table(m.martState.schema, m.martState.name);
  return stmt(
    `select b.batch_id, b.cursor_column, b.window_from
  from ${d.table(m.batches.schema, m.batches.name)} b
 where b.table_name = $1 and b.state = 'validated'
   and b.batch_id > coalesce((select batch_id from ${marks} where mart = '${DEDUPE_MARK}' and source_table = $1), 0)
   and b.batch_id <= coalesce((select batch_id from ${marks} where mart = $2 and source_table = $1), 0)
   and b.batch_id <= coalesce((select min(batch_id) from ${marks} where source_table = $1 and mart <> '${DEDUPE_MARK}'), 0)
 order by b.batch_id`,
    [table, martName],
  );
};

/** A consumed batch to look for repeats in: its window's column and lower bound. */
export interface DedupeBatch {
  readonly batchId: number;
  readonly cursorColumn: string;
  /** `null`: a first window (nothing before it overlaps). */
  readonly windowFrom: bigint | null;
}

/**
 * The validated batches of `table` before `batch` whose window, over the same column, overlaps its
 * own (`batch_id`): where its rows can repeat.
 */
export const planOverlappingBatches = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  batch: DedupeBatch,
): Statement => {
  const m = metaTables(schemas);
  return stmt(
    `select batch_id from ${d.table(m.batches.schema, m.batches.name)}
 where table_name = $1 and state = 'validated' and cursor_column = $2 and batch_id < $3 and window_to > $4
 order by batch_id`,
    [table, batch.cursorColumn, batch.batchId, batch.windowFrom],
  );
};

/**
 * Deletes the rows of `batch` that repeat, value for value, a row of the `earlier` batches whose
 * windows overlap its own: what each window's overlap re-reads. Both sides only in the overlap
 * (above the window's lower bound). The first landing stays, so every version the source had stays
 * in raw once. At a production rate a window overlaps the one or two before it.
 */
export const planDeleteRepeats = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  columns: readonly string[],
  batch: DedupeBatch,
  earlier: readonly number[],
): Statement => {
  const raw = d.table(schemas.raw, rawTableName(table));
  const target = deleteFrom(d, raw, 'r');
  const r = target.ref;
  const same = d.capabilities.isDistinctFrom
    ? columns.map((c) => `o.${d.quote(c)} is not distinct from ${r}.${d.quote(c)}`).join(' and ')
    : sameValues(d, columns, 'o', r);
  const at = d.quote(batch.cursorColumn.toLowerCase());
  return stmt(
    `${target.head}
 where ${r}._batch_id = $1 and ${r}.${at} > $2
   and exists (select 1 from ${raw} o
                where o._batch_id in (${earlier.map((id) => Math.trunc(id)).join(', ')}) and o.${at} > $2
                  and o.id = ${r}.id and ${same})`,
    [batch.batchId, batch.windowFrom],
    'repeats',
  );
};

/** Moves the dedupe mark of `table` to `$2` (replaces the row). */
export const planSetDedupeMark = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  batchId: number,
): Statement[] => {
  const m = metaTables(schemas).martState;
  const marks = d.table(m.schema, m.name);
  return [
    stmt(`delete from ${marks} where mart = '${DEDUPE_MARK}' and source_table = $1`, [table]),
    stmt(
      `insert into ${marks} (mart, source_table, batch_id, updated_at) values ('${DEDUPE_MARK}', $1, $2, ${d.now})`,
      [table, batchId],
    ),
  ];
};

/**
 * Deletes the run ledger's rows of runs started before `before` (`monitor.ledgerRetentionDays`):
 * their task rows, test failures and DQ results first, then the runs; never a run still running.
 */
export const planPruneLedger = (d: Dialect, schemas: Schemas, before: string): Statement[] => {
  const m = metaTables(schemas);
  const runs = d.table(m.runs.schema, m.runs.name);
  const old = `(select run_id from ${runs} where started_at < cast($1 as timestamp) and state <> 'running')`;
  return [
    ...[m.taskInstances, m.testFailures, m.dqResults].map((t) =>
      stmt(`delete from ${d.table(t.schema, t.name)} where run_id in ${old}`, [before]),
    ),
    stmt(
      `delete from ${runs} where started_at < cast($1 as timestamp) and state <> 'running'`,
      [before],
      'runsPruned',
    ),
  ];
};
