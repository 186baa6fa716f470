import { epochText } from '../../config/time.js';
import type { CursorRange, SourceSnapshot } from '../../engines/source/source.js';
import type { Column, CopyTextBatch, QuarantinedValue, Row } from '../../engines/types.js';
import type { WarehouseConnection } from '../../engines/warehouse/warehouse.js';
import type { LandedBatch, RunContext, TaskOutcome } from '../../runner/context.js';
import { faultPoint, losesRow } from '../../runner/faults.js';
import { queryOne, type Task, type TaskScope } from '../../runner/task.js';
import { planOpenFutureRows, planOpenQuarantined } from '../exceptions.js';
import { metaTables } from '../meta.js';
import { FUTURE_TOLERANCE_SECONDS } from '../periods.js';
import { nextWatermark } from '../windows.js';
import { loadColumns, rawBatchIndex, rawTableName, sourceTables, type SourceTableName } from '../tables.js';

const timestampText = (date: Date): string => date.toISOString().replace('T', ' ').replace('Z', '');

/** Appends the load metadata to each row in place: rows are fresh arrays from the driver. */
async function* withLoadColumns(
  rows: AsyncIterable<readonly Row[]>,
  batchId: number,
  loadedAt: string,
): AsyncIterable<readonly Row[]> {
  for await (const batch of rows) {
    for (const row of batch) (row as Row).push(batchId, loadedAt);
    yield batch;
  }
}

/**
 * Stops at the next batch once the task is cancelled or timed out, so the load's transaction rolls
 * back instead of landing a batch after the run has reported the task failed.
 */
async function* guarded<B>(
  batches: AsyncIterable<B>,
  signal: AbortSignal,
  loseRow: (batch: B) => B,
): AsyncIterable<B> {
  let first = true;
  const lose = losesRow('extract');
  for await (const batch of batches) {
    signal.throwIfAborted();
    yield first && lose ? loseRow(batch) : batch;
    if (first) faultPoint('during:extract');
    first = false;
  }
}

/** The batch without its last row (the `lose-row:extract` fault). */
const withoutLastRow = (batch: readonly Row[]): readonly Row[] => batch.slice(0, -1);

/** The COPY text batch without its last line (the `lose-row:extract` fault). */
const withoutLastLine = (batch: CopyTextBatch): CopyTextBatch => ({
  rows: batch.rows - 1,
  text: batch.text.subarray(0, batch.text.lastIndexOf(0x0a, batch.text.length - 2) + 1),
});

/** Removes rows of batches a crashed or failed run landed but never validated: no mart reads them. */
const abandonUnvalidated = async (ctx: RunContext, scope: TaskScope): Promise<number> => {
  const { settings, warehouse } = ctx;
  const d = warehouse.dialect;
  const batches = metaTables(settings.schemas).batches;
  const batchTable = d.table(batches.schema, batches.name);
  return scope.withConnection(async (c) => {
    // Almost always none: without this look-up every cycle would scan each raw table's batch ids.
    const stranded = await c.query(`select batch_id from ${batchTable} where state = 'landed'`);
    if (stranded.length === 0) return 0;
    return c.transaction(async () => {
      let removed = 0;
      for (const spec of sourceTables) {
        removed += await c.execute(
          `delete from ${d.table(settings.schemas.raw, rawTableName(spec.name))}
            where _batch_id in (select batch_id from ${batchTable} where table_name = $1 and state = 'landed')`,
          [spec.name],
        );
      }
      await c.execute(`update ${batchTable} set state = 'abandoned' where state = 'landed'`);
      return removed;
    });
  });
};

/** Rows of the future query come in batches of this many; exceptions are opened per batch. */
const FUTURE_BATCH = 500;

/**
 * SPEC §5 for time cursors: rows stamped more than a day after the run's clock lie above every
 * window until they are due, so they are read here, in the window's snapshot, by id, order and
 * time only, and each gets one open FUTURE_TIMESTAMP (never a second for the same row and time).
 * When due, the window reads them like any other row. Returns how many there are.
 */
const openFutureRows = async (
  ctx: RunContext,
  c: WarehouseConnection,
  snapshot: SourceSnapshot,
  table: SourceTableName,
  columns: readonly Column[],
): Promise<number> => {
  const cursor = ctx.settings.cursors[table];
  if (cursor.kind !== 'time') return 0;
  const named = (name: string): Column | undefined => columns.find((col) => col.name === name.toLowerCase());
  const wanted = [named('id'), named('order_id'), named(cursor.column)];
  if (wanted.some((col) => col === undefined)) return 0;
  const range = { column: cursor.column, from: BigInt(ctx.now + FUTURE_TOLERANCE_SECONDS), to: null };
  let n = 0;
  for await (const rows of snapshot.stream(table, wanted as Column[], range, FUTURE_BATCH)) {
    const open = planOpenFutureRows(ctx.warehouse.dialect, ctx.settings.schemas, table, cursor.column, rows);
    await c.execute(open.sql, open.params);
    n += rows.length;
  }
  return n;
};

/** Quarantined values' exceptions are opened this many per statement. */
const QUARANTINE_BATCH = 500;

/**
 * SPEC §5: one open exception per value the load stored as NULL (BAD_VALUE) and per row whose bytes
 * it replaced (INVALID_UTF8), in the load's transaction, so the marts see them with the batch.
 */
const openQuarantined = async (
  ctx: RunContext,
  c: WarehouseConnection,
  table: SourceTableName,
  batchId: number,
  values: readonly QuarantinedValue[],
): Promise<void> => {
  for (let i = 0; i < values.length; i += QUARANTINE_BATCH) {
    const open = planOpenQuarantined(
      ctx.warehouse.dialect,
      ctx.settings.schemas,
      table,
      batchId,
      values.slice(i, i + QUARANTINE_BATCH),
    );
    await c.execute(open.sql, open.params);
  }
};

/** A landed batch and how many of its values were quarantined, by exception type. */
export type Extracted = LandedBatch & { readonly badValues: number; readonly replaced: number };

/**
 * Lands one window of one table as batch `batchId`, in one source snapshot and one warehouse
 * transaction. A reconcile window (SPEC §6: a day over the table's time column) moves no
 * watermark and holds no future rows: it only lands what the source has in that day.
 */
export const extractWindow = async (
  ctx: RunContext,
  scope: TaskScope,
  table: SourceTableName,
  batchId: number,
  range: CursorRange,
  reconcile = false,
): Promise<Extracted> => {
  const { settings, warehouse, source } = ctx;
  const d = warehouse.dialect;
  const columns = ctx.state.columns?.get(table);
  if (!columns) throw new Error(`extract ${table}: check_drift must run first`);
  const batches = metaTables(settings.schemas).batches;
  const target: Column[] = [...columns, ...loadColumns];
  const snapshot = await source.snapshot();
  try {
    const loadedAt = timestampText(new Date());
    const {
      landed: { rows: landedCount, quarantined },
      sourceCount,
      watermark,
      future,
    } = await scope.withConnection((c) =>
      c.transaction(async () => {
        const [schema, raw, size] = [settings.schemas.raw, rawTableName(table), settings.batchSize];
        // COPY text straight from the source's wire format where both ends speak it (MySQL →
        // PostgreSQL): the same rows, without a JS value per field.
        const landed =
          c.loadCopyText && snapshot.streamCopyText
            ? await c.loadCopyText(
                schema,
                raw,
                target,
                guarded(
                  snapshot.streamCopyText(table, columns, range, size, [batchId, loadedAt]),
                  scope.signal,
                  withoutLastLine,
                ),
              )
            : await c.load(
                schema,
                raw,
                target,
                guarded(
                  withLoadColumns(snapshot.stream(table, columns, range, size), batchId, loadedAt),
                  scope.signal,
                  withoutLastRow,
                ),
                { runId: ctx.runId, batchId },
              );
        // Counted after the rows, in the same snapshot, so validate compares like with like (SPEC
        // §3). MySQL answers from the stream's own statement instead of reading the window again.
        const sourceCount = await snapshot.count(table, range);
        // The table's first load (no watermark yet: the initial load) builds raw's batch index
        // once its rows are in; init creates none. Kept up row by row it cost PostgreSQL's COPY
        // of the initial load about half its time. `create index` blocks writers only (this load
        // is raw's one writer), and rolls back with the load.
        const byBatch = range.from === null ? d.createIndex(schema, raw, rawBatchIndex) : null;
        if (byBatch) await c.execute(byBatch);
        // The window's top in the source's snapshot: the rows that landed, without reading them back.
        const watermark = reconcile
          ? null
          : nextWatermark(
              ctx.state.watermarks?.get(table) ?? null,
              range,
              await snapshot.maxima(table, range),
            );
        const future = reconcile ? 0 : await openFutureRows(ctx, c, snapshot, table, columns);
        await openQuarantined(ctx, c, table, batchId, landed.quarantined);
        await c.execute(
          `insert into ${d.table(batches.schema, batches.name)}
             (batch_id, run_id, table_name, cursor_column, window_from, window_to, source_count, landed_count, state, created_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, 'landed', cast($9 as timestamp))`,
          // The run's clock, not the wall's: raw retention (SPEC §6) ages batches by it, so a
          // replay (demo, tests) ages them as it would have in real time.
          [
            batchId,
            ctx.runId,
            table,
            range.column,
            range.from,
            range.to,
            sourceCount,
            landed.rows,
            epochText(ctx.now),
          ],
        );
        // A stop that arrived while the last rows were in flight (the batch checks above only see
        // one that came between batches): roll back rather than land what the run reports failed.
        scope.signal.throwIfAborted();
        return { landed, sourceCount, watermark, future };
      }),
    );
    const badValues = quarantined.filter((v) => v.type === 'BAD_VALUE').length;
    return {
      table,
      batchId,
      range,
      sourceCount,
      landedCount,
      watermark,
      future,
      badValues,
      replaced: quarantined.length - badValues,
      ...(reconcile ? { keepWatermark: true } : {}),
    };
  } finally {
    await snapshot.close();
  }
};

/** SPEC §3 extract: the three tables stream into raw in parallel, each in one warehouse transaction. */
export const extract: Task = {
  name: 'extract',
  after: ['calc_window'],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    const abandoned = await abandonUnvalidated(ctx, scope);
    if (abandoned > 0) ctx.log.warn({ rows: abandoned }, 'removed raw rows of batches never validated');
    const batches = metaTables(ctx.settings.schemas).batches;
    const last = await scope.withConnection((c) =>
      queryOne<{ m: number }>(
        c,
        `select coalesce(max(batch_id), 0) as m from ${ctx.warehouse.dialect.table(batches.schema, batches.name)}`,
      ),
    );
    const first = Number(last?.m ?? 0) + 1;
    const landed = await Promise.all(
      sourceTables.map((spec, i) => {
        const range = ctx.state.windows?.get(spec.name);
        if (!range) throw new Error(`extract ${spec.name}: calc_window must run first`);
        return extractWindow(ctx, scope, spec.name, first + i, range);
      }),
    );
    ctx.state.batches = landed;
    const total = landed.reduce((n, b) => n + b.landedCount, 0);
    return {
      rowsRead: landed.reduce((n, b) => n + b.sourceCount, 0),
      rowsWritten: total,
      note: landed
        .map((b) => {
          const held = [
            b.future > 0 ? `+${b.future} FUTURE_TIMESTAMP held at the source` : '',
            b.badValues > 0 ? `+${b.badValues} BAD_VALUE stored as NULL` : '',
            b.replaced > 0 ? `+${b.replaced} INVALID_UTF8` : '',
          ].filter(Boolean);
          return `${b.table} ${b.landedCount}${held.length > 0 ? ` (${held.join(', ')})` : ''}`;
        })
        .join(', '),
    };
  },
};
