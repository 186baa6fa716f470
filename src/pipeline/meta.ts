import type { Schemas } from '../config/settings.js';
import { col, varchar, type TableSpec } from './ddl.js';

/** The metadata schema's tables (SPEC §2): the run ledger, watermarks and load batches. */
export const metaTables = (
  schemas: Schemas,
): Record<
  | 'runs'
  | 'taskInstances'
  | 'watermarks'
  | 'batches'
  | 'schemaChanges'
  | 'martState'
  | 'testFailures'
  | 'dqResults',
  TableSpec
> => ({
  runs: {
    schema: schemas.meta,
    name: 'runs',
    columns: [
      col('run_id', 'bigint'),
      varchar('kind', 32),
      varchar('state', 16),
      col('started_at', 'timestamp'),
      col('ended_at', 'timestamp'),
      col('error', 'text'),
      col('summary', 'text'),
      // schedule (serve), manual (run, monitor), task (task <name>).
      varchar('triggered_by', 16),
    ],
    primaryKey: ['run_id'],
    added: ['triggered_by'],
  },
  taskInstances: {
    schema: schemas.meta,
    name: 'task_instances',
    columns: [
      col('run_id', 'bigint'),
      varchar('task', 64),
      varchar('state', 16),
      col('started_at', 'timestamp'),
      col('ended_at', 'timestamp'),
      col('seconds', 'double'),
      col('rows_read', 'bigint'),
      col('rows_written', 'bigint'),
      col('error', 'text'),
      // Runs of the task: above 1 when a transient failure made it run again.
      col('attempts', 'integer'),
    ],
    primaryKey: ['run_id', 'task'],
    added: ['attempts'],
  },
  watermarks: {
    schema: schemas.meta,
    name: 'watermarks',
    columns: [
      varchar('table_name', 64),
      varchar('cursor_column', 64),
      col('value', 'bigint'),
      // The greatest id landed among rows the cursor cannot place (NULL, before the floor).
      col('stray_id', 'bigint'),
      col('batch_id', 'bigint'),
      col('updated_at', 'timestamp'),
    ],
    primaryKey: ['table_name'],
    added: ['stray_id'],
  },
  batches: {
    schema: schemas.meta,
    name: 'batches',
    columns: [
      col('batch_id', 'bigint'),
      col('run_id', 'bigint'),
      varchar('table_name', 64),
      varchar('cursor_column', 64),
      col('window_from', 'bigint'),
      col('window_to', 'bigint'),
      col('source_count', 'bigint'),
      col('landed_count', 'bigint'),
      // loading → landed → validated; or failed / abandoned (never consumed by a mart).
      varchar('state', 16),
      col('created_at', 'timestamp'),
    ],
    primaryKey: ['batch_id'],
  },
  martState: {
    // Each mart's consumption high-water mark per raw table it reads: the last batch it applied.
    schema: schemas.meta,
    name: 'mart_state',
    columns: [
      varchar('mart', 32),
      varchar('source_table', 64),
      col('batch_id', 'bigint'),
      col('updated_at', 'timestamp'),
    ],
    primaryKey: ['mart', 'source_table'],
  },
  testFailures: {
    schema: schemas.meta,
    name: 'test_failures',
    columns: [
      col('run_id', 'bigint'),
      varchar('test', 64),
      varchar('severity', 8),
      varchar('order_id', 64),
      col('detail', 'text'),
      col('detected_at', 'timestamp'),
    ],
  },
  dqResults: {
    // One row per data-quality check per monitor run (SPEC §6): how many orders fail, and a few.
    schema: schemas.meta,
    name: 'dq_results',
    columns: [
      col('run_id', 'bigint'),
      varchar('check_name', 64),
      col('failing', 'bigint'),
      // Up to 10 failing order ids, comma-separated, smallest first.
      col('sample', 'text'),
      col('checked_at', 'timestamp'),
    ],
    primaryKey: ['run_id', 'check_name'],
  },
  schemaChanges: {
    schema: schemas.meta,
    name: 'schema_changes',
    columns: [
      col('run_id', 'bigint'),
      varchar('table_name', 64),
      varchar('column_name', 64),
      varchar('change', 32),
      varchar('column_type', 64),
      col('detected_at', 'timestamp'),
    ],
  },
});

export const exceptionIdSequence = 'exception_ids';

/** `settlement_ods.order_tracking_exceptions` (SPEC §2): the ledger of rows the marts could not place. */
export const exceptionsTable = (schemas: Schemas): TableSpec => ({
  schema: schemas.mart,
  name: 'order_tracking_exceptions',
  // Ids come from a sequence (an IDENTITY on Redshift): mart_ecs and mart_uts open exceptions in
  // parallel transactions.
  identity: { column: 'exception_id', schema: schemas.meta, sequence: exceptionIdSequence },
  columns: [
    col('exception_id', 'bigint'),
    varchar('order_id', 64),
    varchar('exception_type', 64),
    varchar('source_table', 64),
    col('source_id', 'bigint'),
    col('traceseq', 'integer'),
    col('pathtime', 'bigint'),
    col('event_time', 'bigint'),
    col('detected_at', 'timestamp'),
    col('resolved_at', 'timestamp'),
    varchar('notes', 512),
    // The column holding a BAD_VALUE or INVALID_UTF8 (SPEC §5).
    varchar('column_name', 64),
  ],
  added: ['column_name'],
});
