import type { CursorRange } from '../engines/source/source.js';
import type { Dialect } from '../engines/warehouse/warehouse.js';
import { stmt, type Statement } from './statement.js';

/**
 * What one batch landed, read back from raw by its batch id (indexed): the greatest cursor value
 * `m` (the next watermark, SPEC §3) and, where the window reads strays, the greatest id `s` among
 * rows the cursor cannot place (NULL, or before the floor).
 */
export const planLandedMax = (
  d: Dialect,
  schema: string,
  raw: string,
  range: CursorRange,
  batchId: number,
): Statement => {
  const col = d.quote(range.column.toLowerCase());
  const floor = range.strays?.floor ?? null;
  const stray = range.strays
    ? `max(case when ${col} is null${floor !== null ? ` or ${col} < $2` : ''} then ${d.quote('id')} end)`
    : 'null';
  return stmt(
    `select max(${col}) as m, ${stray} as s from ${d.table(schema, raw)} where _batch_id = $1`,
    floor !== null ? [batchId, floor] : [batchId],
  );
};
