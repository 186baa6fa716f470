import { ConfigError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { epochText, parseEpoch } from '../config/time.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import { sourceTables, type SourceTableName } from '../pipeline/tables.js';
import { cursorText, planSetWatermark, readWatermarks } from '../pipeline/watermarks.js';
import { requireInitialized, takeLease } from '../runner/run-cycle.js';

/** The value `--to` gives for this table's cursor: a time (epoch seconds or a UTC date) or an id. */
const parseTo = (raw: string, settings: Settings, table: SourceTableName, now: number): bigint => {
  const cursor = settings.cursors[table];
  if (cursor.kind === 'id') {
    if (!/^\d+$/.test(raw.trim()))
      throw new ConfigError(`--to "${raw}" is not an id (${table} is read by ${cursor.column})`);
    return BigInt(raw.trim());
  }
  const epoch = parseEpoch(raw, '--to');
  // Ahead of the clock is the very state being repaired: refuse to write it.
  if (epoch > now)
    throw new ConfigError(
      `--to ${epochText(epoch)} is ahead of the clock (${epochText(now)} UTC); give a time before it`,
    );
  return BigInt(epoch);
};

/**
 * `order-tracking reset-watermark <table> [--to VALUE]`, under the pipeline's lease: sets where the
 * next run reads `table` from (`--to`, less the overlap), or removes its watermark so the next run
 * reads the table from the start (the marts deduplicate what they already hold). The repair for a
 * time watermark ahead of the clock, which stops every run (SPEC §3).
 */
export const resetWatermarkCommand = async (
  settings: Settings,
  table: string,
  to: string | undefined,
  now: number,
): Promise<string> => {
  const spec = sourceTables.find((t) => t.name === table);
  if (!spec)
    throw new ConfigError(
      `unknown table "${table}" (choose one of ${sourceTables.map((t) => t.name).join(', ')})`,
    );
  const cursor = settings.cursors[spec.name];
  const value = to === undefined ? null : parseTo(to, settings, spec.name, now);
  const warehouse = await openWarehouse(settings.warehouse, { settings });
  try {
    await requireInitialized(warehouse, settings);
    const lease = await takeLease(warehouse, settings);
    try {
      const before = await withConnection(warehouse, async (c) => {
        const stored = (await readWatermarks(c, warehouse.dialect, settings)).get(spec.name);
        const current = stored?.current ?? null;
        await c.transaction(async () => {
          const next = value === null ? null : { value, strayId: current?.strayId ?? null };
          for (const s of planSetWatermark(warehouse.dialect, settings, spec.name, next, null))
            await c.execute(s.sql, s.params);
        });
        return stored;
      });
      const was = before?.value == null ? 'none' : cursorText(cursor, before.value);
      return value === null
        ? `removed the watermark of ${spec.name} (was ${was}): the next run reads the table from the start`
        : `set the watermark of ${spec.name} to ${cursorText(cursor, value)} (was ${was}): the next run reads ${cursor.column} from ${cursor.kind === 'time' ? epochText(value - BigInt(cursor.overlap)) : String(value - BigInt(cursor.overlap))} on`;
    } finally {
      await lease.release();
    }
  } finally {
    await warehouse.close();
  }
};
