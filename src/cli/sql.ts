import { ConfigError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import type { Column } from '../engines/types.js';
import { dialectOf } from '../engines/warehouse/open.js';
import { withConnection, type Dialect } from '../engines/warehouse/warehouse.js';
import { layoutOf } from '../pipeline/layouts.js';
import type { MartFacts } from '../pipeline/mart-sql/facts.js';
import { lookups, planMart } from '../pipeline/mart-sql/plan.js';
import { renderPlan } from '../pipeline/mart-sql/render.js';
import { marts, type MartName } from '../pipeline/marts.js';
import { gatherMartFacts } from '../pipeline/tasks/mart.js';
import { uniqueByIndex } from '../pipeline/tasks/tests.js';
import { retentionCutoff } from '../pipeline/periods.js';
import { loadColumns, sourceTable } from '../pipeline/tables.js';
import { planDataTests } from '../pipeline/tests-sql.js';
import { openInitializedWarehouse } from './status.js';

export const sqlTasks = [...marts.map((m) => m.name), 'tests'] as const;

/**
 * `order-tracking sql <task>`: the SQL the task would run now, planned from the warehouse's current
 * facts (read-only: nothing is executed but look-ups).
 */
export const sqlCommand = async (
  settings: Settings,
  task: string,
  now: number,
  options: { readonly offline?: boolean } = {},
): Promise<string> => {
  if (!(sqlTasks as readonly string[]).includes(task))
    throw new ConfigError(`unknown task "${task}" (choose one of ${sqlTasks.join(', ')})`);
  if (options.offline) return offlinePlan(await dialectOf(settings.warehouse), settings, task, now);
  // Read-only: beside other readers, on a read-only file; a run holding DuckDB's file exits 75.
  const warehouse = await openInitializedWarehouse(settings, { readOnly: true });
  try {
    const d = warehouse.dialect;
    if (task === 'tests') {
      // The tests read the rows of the batches the marts would apply next.
      const ranges = await withConnection(warehouse, async (c) => {
        const out: Partial<Record<MartName, { from: number; to: number }>> = {};
        for (const spec of marts) {
          const f = await gatherMartFacts(c, { settings, warehouse, now }, spec);
          out[spec.name] = { from: f.fromBatch, to: f.toBatch };
        }
        return out;
      });
      const held = await uniqueByIndex(warehouse, settings.schemas);
      return [
        ...[...held].map((m) => `-- unique_${m}: not run, the unique index on its key holds it\n`),
        ...planDataTests(d, settings.schemas, ranges, held).map(
          (t) => `-- ${t.name} (${t.severity})\n${t.sql};\n-- params: ${JSON.stringify(t.params)}\n`,
        ),
      ].join('\n');
    }
    const spec = marts.find((m) => m.name === (task as MartName));
    if (!spec) throw new ConfigError(`unknown task "${task}"`);
    return await withConnection(warehouse, async (c) => {
      const facts = await gatherMartFacts(c, { settings, warehouse, now }, spec);
      // Look-ups are answered from the warehouse as it is now: the run answers them mid-transaction,
      // after the batch is staged and applied, so the periods and cutoffs it finds may differ.
      return renderPlan(planMart(d, spec, facts), async (phase) => {
        const query = phase.preview ?? phase.lookup;
        const row = (await c.query<{ m: number | null }>(query.sql, query.params))[0];
        const value = row?.m === null || row?.m === undefined ? null : Number(row.m);
        return {
          value,
          note: phase.preview
            ? 'the run asks this of its stage; shown for the committed tables now'
            : 'as of now; the run asks again at this point',
        };
      });
    });
  } finally {
    await warehouse.close();
  }
};

/** What an offline plan assumes of the warehouse, said at the top of its output. */
const OFFLINE_NOTE =
  '-- planned without connecting: the next batch (1, 2] of a mart with no hist table yet, the source\n' +
  "-- tables' required columns only, look-ups answered with the run's clock (nothing was read)\n";

/**
 * The plan from stand-in facts, without a connection (`sql --offline`): for a review of the SQL an
 * engine would be sent (a production Redshift) before pointing the pipeline at it.
 */
const offlinePlan = async (d: Dialect, settings: Settings, task: string, now: number): Promise<string> => {
  const range = { from: 1, to: 2 };
  if (task === 'tests')
    return [
      OFFLINE_NOTE,
      ...planDataTests(d, settings.schemas, { mart_uti: range, mart_ecs: range, mart_uts: range }).map(
        (t) => `-- ${t.name} (${t.severity})\n${t.sql};\n-- params: ${JSON.stringify(t.params)}\n`,
      ),
    ].join('\n');
  const spec = marts.find((m) => m.name === (task as MartName));
  if (!spec) throw new ConfigError(`unknown task "${task}"`);
  const columns: Column[] = [
    ...sourceTable(spec.source).required.map((r) => ({
      name: r.name.toLowerCase(),
      sourceName: r.name,
      type:
        r.name === 'order_id' ? ({ kind: 'varchar', length: 64 } as const) : ({ kind: 'bigint' } as const),
    })),
    ...loadColumns,
  ];
  const layout = layoutOf(settings.redshift.tables, `hist_${spec.source}`);
  const facts: MartFacts = {
    schemas: settings.schemas,
    columns,
    fromBatch: range.from,
    toBatch: range.to,
    now,
    floor: settings.timestampFloor,
    badValues: false,
    histTables: [],
    frozen: settings.frozenPeriods,
    futureBatches: [],
    held: 'idle',
    ...(layout ? { histLayout: layout } : {}),
    ...(spec.retention === 'order' ? { fromUtiBatch: range.from, toUtiBatch: range.to } : {}),
  };
  // A cutoff half a year back, and an aged row a day before it: the archive's statements show.
  const aged = (retentionCutoff(now, now) ?? now) - 86_400;
  // A batch of the last quarter of an hour; the newest row at the clock.
  const stand: Record<string, number> = {
    [lookups.cutoff]: now,
    [lookups.cutoffAfterApply]: now,
    [lookups.batchOldest]: now - 900,
    [lookups.batchNewest]: now,
  };
  const plan = await renderPlan(planMart(d, spec, facts), async (phase) => ({
    value: stand[phase.name] ?? aged,
    note: 'stand-in: nothing was read',
  }));
  return OFFLINE_NOTE + '\n' + plan;
};
