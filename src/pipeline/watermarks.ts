import type { Settings } from '../config/settings.js';
import { epochText } from '../config/time.js';
import type { Value } from '../engines/types.js';
import type { Dialect, WarehouseConnection } from '../engines/warehouse/warehouse.js';
import { metaTables } from './meta.js';
import { stmt, type Statement } from './statement.js';
import type { CursorSpec, SourceTableName } from './tables.js';
import type { Watermark } from './windows.js';

/** An integer the warehouse returned (a number while exact, else its decimal text) as a bigint. */
export const toBigInt = (v: Value | undefined): bigint | null =>
  v === null || v === undefined ? null : typeof v === 'bigint' ? v : BigInt(String(v));

/** One table's stored watermark. */
export interface StoredWatermark {
  readonly cursorColumn: string;
  /** `null` when it was taken over another column than the cursor's now (the table is read anew). */
  readonly current: Watermark | null;
  readonly value: bigint | null;
  readonly updatedAt: string | null;
}

/** Every table's watermark, as the cursors configured now read it. */
export const readWatermarks = async (
  c: WarehouseConnection,
  d: Dialect,
  settings: Settings,
): Promise<Map<SourceTableName, StoredWatermark>> => {
  const t = metaTables(settings.schemas).watermarks;
  const rows = await c.query(
    `select table_name, cursor_column, value, stray_id, updated_at from ${d.table(t.schema, t.name)}`,
  );
  const out = new Map<SourceTableName, StoredWatermark>();
  for (const r of rows) {
    const table = String(r.table_name) as SourceTableName;
    const cursor = settings.cursors[table];
    const value = toBigInt(r.value);
    // A watermark taken over another column means nothing for this one: the table is read from the
    // start (the marts deduplicate, so re-reading is safe).
    const same = cursor !== undefined && String(r.cursor_column) === cursor.column;
    out.set(table, {
      cursorColumn: String(r.cursor_column),
      current: same && value !== null ? { value, strayId: toBigInt(r.stray_id) } : null,
      value,
      updatedAt: r.updated_at === null || r.updated_at === undefined ? null : String(r.updated_at),
    });
  }
  return out;
};

/** Replaces a table's watermark (`null`: removes it, so the next run reads the table from the start). */
export const planSetWatermark = (
  d: Dialect,
  settings: Settings,
  table: SourceTableName,
  watermark: Watermark | null,
  batchId: number | null,
): Statement[] => {
  const t = metaTables(settings.schemas).watermarks;
  const marks = d.table(t.schema, t.name);
  return [
    stmt(`delete from ${marks} where table_name = $1`, [table]),
    ...(watermark === null
      ? []
      : [
          stmt(
            `insert into ${marks} (table_name, cursor_column, value, stray_id, batch_id, updated_at)
             values ($1, $2, $3, $4, $5, ${d.now})`,
            [table, settings.cursors[table].column, watermark.value, watermark.strayId, batchId],
          ),
        ]),
  ];
};

/** A cursor value as a person reads it: a UTC time for time cursors, else the number. */
export const cursorText = (cursor: CursorSpec, value: bigint | number): string =>
  cursor.kind === 'time' ? `${cursor.column} ${epochText(value)}` : `${cursor.column} ${String(value)}`;

/** The error line for a time watermark ahead of the clock, naming the fix (`reset-watermark`). */
export const resetWatermarkHint = (
  table: SourceTableName,
  cursor: CursorSpec,
  watermark: Watermark | null,
  now: number,
): string => {
  const dayBefore = epochText(now - 86_400);
  return `the watermark of ${table} (${watermark ? cursorText(cursor, watermark.value) : 'none'}) is ahead of the clock (${epochText(now)} UTC), so no window would read what the source writes now (a clock that jumped back, or an earlier run with a clock ahead); check the clocks, then run \`order-tracking reset-watermark ${table} --to '${dayBefore}'\` to read again from a day back (the marts deduplicate)`;
};
