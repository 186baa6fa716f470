import type { Column } from '../../engines/types.js';
import type { TableLayout, WarehouseConnection } from '../../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from '../../runner/context.js';
import { faultPoint } from '../../runner/faults.js';
import { runPlan, type Counts } from '../../runner/plan.js';
import { queryOne, type Task } from '../../runner/task.js';
import { listHistTables } from '../hist.js';
import { layoutOf } from '../layouts.js';
import type { MartFacts } from '../mart-sql/facts.js';
import { planMart, splitAtTransaction } from '../mart-sql/plan.js';
import { planFutureBatches, planHasOpenBadValues, planHeldDue, planMartHoldsRow } from '../mart-sql/stage.js';
import { mart as martSpec, type MartSpec } from '../marts.js';
import { metaTables } from '../meta.js';
import { heldTableName } from '../tables.js';

const markOf = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  mart: string,
  source: string,
): Promise<number> => {
  const t = metaTables(ctx.settings.schemas).martState;
  const row = await queryOne<{ batch_id: number }>(
    c,
    `select batch_id from ${ctx.warehouse.dialect.table(t.schema, t.name)} where mart = $1 and source_table = $2`,
    [mart, source],
  );
  return Number(row?.batch_id ?? 0);
};

const layoutField = (layout: TableLayout | undefined): { histLayout?: TableLayout } =>
  layout ? { histLayout: layout } : {};

/** What planning a mart needs from a run: its settings, warehouse and clock. */
export type PlanContext = Pick<RunContext, 'settings' | 'warehouse' | 'now'>;

/** Facts a mart's SQL is planned from, read from the warehouse (read-only). */
export const gatherMartFacts = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  spec: MartSpec,
): Promise<MartFacts> => {
  const { settings, warehouse } = ctx;
  const d = warehouse.dialect;
  const batches = metaTables(settings.schemas).batches;
  const last = await queryOne<{ m: number }>(
    c,
    `select coalesce(max(batch_id), 0) as m from ${d.table(batches.schema, batches.name)} where table_name = $1 and state = 'validated'`,
    [spec.source],
  );
  const columns = await warehouse.describeTable(settings.schemas.mart, spec.table);
  if (!columns)
    throw new Error(
      `${spec.name}: ${settings.schemas.mart}.${spec.table} does not exist: run \`order-tracking init\``,
    );
  const uti = martSpec('mart_uti');
  const clock = { schemas: settings.schemas, now: ctx.now };
  // The held rows' copy serves only while its columns are the mart's, type for type.
  const heldColumns = await warehouse.describeTable(settings.schemas.raw, heldTableName(spec.source));
  const shape = (cs: readonly Column[]): string =>
    cs.map((col) => `${col.name} ${d.columnType(col.type)}`).join(',');
  const heldReady = heldColumns !== null && shape(heldColumns) === shape(columns);
  const heldDue = planHeldDue(d, spec, clock);
  const due = planFutureBatches(d, spec, clock, heldReady);
  const dueBatches = await c.query<{ b: number; exact: boolean }>(due.sql, due.params);
  const badValues = planHasOpenBadValues(d, spec, settings.schemas);
  const fromBatch = await markOf(c, ctx, spec.name, spec.source);
  const holdsRow = planMartHoldsRow(d, spec, settings.schemas);
  const martEmpty = fromBatch === 0 && (await c.query(holdsRow.sql, holdsRow.params)).length === 0;
  return {
    floor: settings.timestampFloor,
    badValues: (await c.query(badValues.sql, badValues.params)).length > 0,
    futureBatches: dueBatches.every((r) => r.exact) ? dueBatches.map((r) => Number(r.b)) : 'all',
    held: !heldReady ? 'create' : (await c.query(heldDue.sql, heldDue.params)).length > 0 ? 'due' : 'idle',
    schemas: settings.schemas,
    columns,
    fromBatch,
    toBatch: Number(last?.m ?? 0),
    now: ctx.now,
    ...(martEmpty ? { martEmpty } : {}),
    histTables: await listHistTables(c, settings.schemas.mart, spec),
    frozen: settings.frozenPeriods,
    ...layoutField(layoutOf(settings.redshift.tables, `hist_${spec.source}`)),
    ...(spec.retention === 'order'
      ? {
          fromUtiBatch: await markOf(c, ctx, spec.name, uti.source),
          toUtiBatch: await markOf(c, ctx, uti.name, uti.source),
        }
      : {}),
  };
};

/**
 * Plans and applies one mart in one transaction: stage, bad rows, apply, revive, archive, mark (the
 * batch's temporary table built just before it where the engine plans by committed rows only).
 */
export const martTask = (spec: MartSpec): Task => ({
  name: spec.name,
  after: ['validate', ...spec.after],
  timeoutMinutes: spec.timeoutMinutes,
  async run(ctx, scope): Promise<TaskOutcome> {
    const d = ctx.warehouse.dialect;
    return scope.withConnection(async (c) => {
      const facts = await gatherMartFacts(c, ctx, spec);
      const counts: Counts = {};
      const { before, inside } = splitAtTransaction(planMart(d, spec, facts));
      await runPlan(c, before, counts, ctx.log);
      await c.transaction(async () => {
        await runPlan(c, inside, counts, ctx.log);
        faultPoint(`during:${spec.name}`);
      });
      ctx.state.martCounts = { ...(ctx.state.martCounts ?? {}), [spec.name]: counts };
      ctx.state.martRanges = {
        ...(ctx.state.martRanges ?? {}),
        [spec.name]: { from: facts.fromBatch, to: facts.toBatch },
      };
      const archived = Object.entries(counts)
        .filter(([k, n]) => k.startsWith('archived:') && n > 0)
        .map(([k, n]) => `${k.slice(9)} ${n}`);
      const opened = Object.entries(counts)
        .filter(([k, n]) => (k.startsWith('exceptions:') || k.startsWith('gaps:')) && n > 0)
        .reduce((sum, [, n]) => sum + n, 0);
      const parts = [
        `+${counts.inserted ?? 0}`,
        counts.reactivated ? `reactivated ${counts.reactivated}` : '',
        counts.revived ? `revived ${counts.revived}` : '',
        archived.length ? `archived ${archived.join(', ')}` : '',
        opened ? `exceptions +${opened}` : '',
      ].filter(Boolean);
      return {
        rowsRead: counts.inserted ?? 0,
        rowsWritten:
          (counts.inserted ?? 0) +
          Object.entries(counts)
            .filter(([k]) => k.startsWith('archived:'))
            .reduce((s, [, n]) => s + n, 0),
        note: parts.join(', '),
        // What the data tests check; `task tests` reads it back from the ledger.
        details: { batches: { from: facts.fromBatch, to: facts.toBatch } },
      };
    });
  },
});
