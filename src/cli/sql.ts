import { ConfigError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import {
  archivesStageFirst,
  planApply,
  planApplyMaxTs,
  planArchive,
  planBadRows,
  planMark,
  planOldestAged,
  planRevive,
  planStage,
  type Statement,
  stageTable,
} from '../pipeline/mart-sql.js';
import { marts, type MartName } from '../pipeline/marts.js';
import { periodsBetween } from '../pipeline/periods.js';
import { cutoffFor, gatherMartFacts } from '../pipeline/tasks/mart.js';
import { uniqueByIndex } from '../pipeline/tasks/tests.js';
import { planDataTests } from '../pipeline/tests-sql.js';
import { openInitializedWarehouse } from './status.js';

export const sqlTasks = [...marts.map((m) => m.name), 'tests'] as const;

const render = (statements: readonly Statement[]): string =>
  statements
    .map(
      (s) =>
        `${s.sql};${s.params.length ? `\n-- params: ${JSON.stringify(s.params)}` : ''}${s.onlyFrom ? `\n-- only when the statement before changed ${s.onlyFrom} rows or more` : ''}\n`,
    )
    .join('\n');

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
    const ctx = { settings, warehouse, now };
    return await withConnection(warehouse, async (c) => {
      const facts = await gatherMartFacts(c, ctx, spec);
      const cutoff = await cutoffFor(c, ctx, spec);
      const frozen = new Set(settings.frozenPeriods);
      const latestPeriod = (at: number) => periodsBetween(Math.max(at - 2 * 15_552_000, 0), at).slice(-1);
      const archiveFacts = (at: number, periods: ReturnType<typeof latestPeriod>) => ({
        schemas: settings.schemas,
        columns: facts.columns,
        cutoff: at,
        periods,
        frozen,
        existing: facts.histTables,
      });
      // DuckDB: the apply first moves the batch's already-aged rows from the stage to hist (its
      // cutoff comes from mart and stage at run time; shown here for the mart's cutoff now).
      const stageFirst = archivesStageFirst(d, spec);
      const stageArchive =
        stageFirst && cutoff !== null
          ? planArchive(
              d,
              spec,
              archiveFacts(
                cutoff,
                latestPeriod(cutoff).filter((p) => !frozen.has(p.name)),
              ),
              stageTable(spec),
            )
          : [];
      const applyNote = !stageFirst
        ? ''
        : `-- before its insert, the apply moves the batch's rows older than the cutoff from ${stageTable(spec)}\n` +
          `-- to their hist tables; the cutoff comes from the newest timestamp of mart and stage:\n${render([planApplyMaxTs(d, spec, settings.schemas)])}` +
          (cutoff === null
            ? '-- (the mart is empty: only the batch itself sets it, so those statements are not shown)\n'
            : `-- shown for cutoff ${cutoff} (the mart's now) and its latest period\n`);
      const statements = [...planStage(d, spec, facts), ...planBadRows(d, spec, facts)];
      const apply = [...planApply(d, spec, facts, stageArchive), ...planRevive(d, spec, facts)];
      let archive = '-- archive: the mart is empty, nothing in it can age out yet\n';
      if (cutoff !== null) {
        const oldest = planOldestAged(d, spec, settings.schemas, cutoff);
        archive =
          `-- archive: cutoff ${cutoff} as of now (the run recomputes it after applying the batch);\n` +
          `-- periods visited are those from the oldest aged row, found by:\n${render([oldest])}\n` +
          render(planArchive(d, spec, archiveFacts(cutoff, latestPeriod(cutoff))));
      }
      return `${render(statements)}\n${applyNote}${render(apply)}\n${archive}\n${render(planMark(d, settings.schemas, spec.name, spec.source, facts.toBatch))}`;
    });
  } finally {
    await warehouse.close();
  }
};
