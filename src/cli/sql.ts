import { ConfigError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import { planMart } from '../pipeline/mart-sql/plan.js';
import { renderPlan } from '../pipeline/mart-sql/render.js';
import { marts, type MartName } from '../pipeline/marts.js';
import { gatherMartFacts } from '../pipeline/tasks/mart.js';
import { uniqueByIndex } from '../pipeline/tasks/tests.js';
import { planDataTests } from '../pipeline/tests-sql.js';
import { openInitializedWarehouse } from './status.js';

export const sqlTasks = [...marts.map((m) => m.name), 'tests'] as const;

/**
 * `order-tracking sql <task>`: the SQL the task would run now, planned from the warehouse's current
 * facts (read-only: nothing is executed but look-ups).
 */
export const sqlCommand = async (settings: Settings, task: string, now: number): Promise<string> => {
  if (!(sqlTasks as readonly string[]).includes(task))
    throw new ConfigError(`unknown task "${task}" (choose one of ${sqlTasks.join(', ')})`);
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
