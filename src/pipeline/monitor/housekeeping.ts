import { epochText } from '../../config/time.js';
import type { Column, Value } from '../../engines/types.js';
import type { WarehouseConnection } from '../../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { planResolveExceptions } from '../exceptions.js';
import { marts, type MartSpec } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { DAY_SECONDS } from './reconcile-sql.js';

/** Ids looked up at the source, and exceptions resolved, this many per statement. */
const CHUNK = 1000;

interface Open {
  readonly exception_id: Value;
  readonly exception_type: string;
  readonly source_id: Value;
  readonly event_time: Value;
}

/** Why an open exception no longer holds, from its source row now (`null`: it still holds). */
const clearedBy = (e: Open, row: readonly Value[] | undefined): string | null => {
  if (!row) return 'the source row is gone';
  if (e.exception_type === 'NULL_ORDER_ID')
    return row[1] === null ? null : 'the source row has an order_id now; the marts read it as any row';
  // FUTURE_TIMESTAMP: the version held is no longer the source's (its time changed in place).
  return String(row[2]) === String(e.event_time) ? null : 'the source row no longer holds that time';
};

const resolveChunk = async (
  ctx: RunContext,
  c: WarehouseConnection,
  ids: readonly Value[],
  note: string,
): Promise<number> => {
  const s = planResolveExceptions(ctx.warehouse.dialect, ctx.settings.schemas, { ids }, note);
  return c.execute(s.sql, s.params);
};

/** Resolves the open exceptions of these types of one table whose source row changed or is gone. */
export const resolveCleared = async (
  ctx: RunContext,
  c: WarehouseConnection,
  spec: MartSpec,
  types: readonly ('NULL_ORDER_ID' | 'FUTURE_TIMESTAMP')[] = ['NULL_ORDER_ID', 'FUTURE_TIMESTAMP'],
): Promise<{ checked: number; resolved: number }> => {
  const d = ctx.warehouse.dialect;
  const e = exceptionsTable(ctx.settings.schemas);
  const open = await c.query<Open & Record<string, Value>>(
    `select exception_id, exception_type, source_id, event_time from ${d.table(e.schema, e.name)}
      where source_table = $1 and resolved_at is null and source_id is not null
        and exception_type in (${types.map((t) => `'${t}'`).join(', ')})`,
    [spec.source],
  );
  if (open.length === 0) return { checked: 0, resolved: 0 };
  const described = (await ctx.source.describeTable(spec.source)) ?? [];
  const wanted = ['id', 'order_id', spec.ts].map((name) => described.find((col) => col.name === name));
  if (wanted.some((col) => col === undefined)) return { checked: 0, resolved: 0 };
  const snapshot = await ctx.source.snapshot();
  const cleared = new Map<string, Value[]>();
  try {
    for (let i = 0; i < open.length; i += CHUNK) {
      const chunk = open.slice(i, i + CHUNK);
      const ids = [...new Set(chunk.map((r) => BigInt(String(r.source_id))))];
      const rows = new Map(
        (await snapshot.byIds(spec.source, wanted as Column[], ids)).map((r) => [String(r[0]), r]),
      );
      for (const r of chunk) {
        const why = clearedBy(r, rows.get(String(r.source_id)));
        if (why) cleared.set(why, [...(cleared.get(why) ?? []), r.exception_id]);
      }
    }
  } finally {
    await snapshot.close();
  }
  let resolved = 0;
  for (const [why, ids] of cleared)
    for (let i = 0; i < ids.length; i += CHUNK)
      resolved += await resolveChunk(
        ctx,
        c,
        ids.slice(i, i + CHUNK),
        `resolved by monitor run ${ctx.runId}: ${why}`,
      );
  return { checked: open.length, resolved };
};

/**
 * SPEC §6 exceptions housekeeping: an open NULL_ORDER_ID whose source row has an order id now (or
 * is gone), and an open FUTURE_TIMESTAMP whose row no longer holds that time (or is gone), are
 * resolved with a note (a FUTURE_TIMESTAMP folded in is resolved by the cycle itself); resolved
 * exceptions older than `monitor.exceptionRetentionDays` are deleted, so the ledger stays bounded.
 */
export const exceptionsTask: Task = {
  name: 'exceptions',
  after: [],
  timeoutMinutes: 30,
  async run(ctx, scope): Promise<TaskOutcome> {
    const d = ctx.warehouse.dialect;
    const e = exceptionsTable(ctx.settings.schemas);
    return scope.withConnection(async (c) => {
      let checked = 0;
      let resolved = 0;
      for (const spec of marts) {
        const r = await resolveCleared(ctx, c, spec);
        checked += r.checked;
        resolved += r.resolved;
      }
      // resolved_at is the wall clock's: a run's clock far ahead of it must not delete the ledger.
      const clock = Math.min(ctx.now, Math.floor(Date.now() / 1000));
      const before = epochText(clock - ctx.settings.monitor.exceptionRetentionDays * DAY_SECONDS);
      const deleted = await c.execute(
        `delete from ${d.table(e.schema, e.name)} where resolved_at is not null and resolved_at < cast($1 as timestamp)`,
        [before],
      );
      return {
        rowsRead: checked,
        rowsWritten: resolved + deleted,
        note: `${checked} open NULL_ORDER_ID/FUTURE_TIMESTAMP checked at the source, ${resolved} resolved; ${deleted} resolved more than ${ctx.settings.monitor.exceptionRetentionDays} days ago deleted`,
        details: { exceptions: { checked, resolved, deleted } },
      };
    });
  },
};
