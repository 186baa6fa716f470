/**
 * Golden files pin the SQL each mart task runs per dialect, for fixed facts (clock, batches,
 * columns, periods) and fixed answers to its look-ups: the whole plan of `planMart`, in the order
 * the task runs it and `order-tracking sql` prints it. A change to generated SQL shows up as a
 * reviewed diff under test/golden/.
 */
import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/engines/types.js';
import { duckdbDialect } from '../../src/engines/warehouse/duckdb/duckdb-dialect.js';
import { postgresDialect } from '../../src/engines/warehouse/postgres/postgres-dialect.js';
import { redshiftDialect } from '../../src/engines/warehouse/redshift/redshift-dialect.js';
import type { MartFacts } from '../../src/pipeline/mart-sql/facts.js';
import { lookups, planMart, type LookupPhase } from '../../src/pipeline/mart-sql/plan.js';
import { renderPlan } from '../../src/pipeline/mart-sql/render.js';
import { histTableName, marts } from '../../src/pipeline/marts.js';
import { loadColumns } from '../../src/pipeline/tables.js';
import { planDataTests } from '../../src/pipeline/tests-sql.js';

const schemas = { raw: 'settlement_public', mart: 'settlement_ods', meta: 'order_tracking_meta' };
const c = (name: string, kind: 'bigint' | 'integer'): Column => ({ name, sourceName: name, type: { kind } });
const v = (name: string, length: number): Column => ({
  name,
  sourceName: name,
  type: { kind: 'varchar', length },
});
const columns: Record<string, Column[]> = {
  uni_tracking_info: [c('id', 'bigint'), v('order_id', 64), v('status', 32), c('update_time', 'integer')],
  ecs_order_info: [
    c('id', 'bigint'),
    v('order_id', 64),
    c('partner_id', 'integer'),
    c('add_time', 'integer'),
  ],
  uni_tracking_spath: [
    c('id', 'bigint'),
    v('order_id', 64),
    c('traceseq', 'integer'),
    c('pathtime', 'integer'),
  ],
};
const NOW = 1_780_000_000; // 2026-05-28: the cutoff falls in 2025_h2
/** The default timestampFloor, 2000-01-01. */
const FLOOR = 946_684_800;
/** The oldest aged row, stage or mart: 2025-03-01, so the archive visits 2025_h1 and 2025_h2. */
const OLDEST = Date.UTC(2025, 2, 1) / 1000;

/** Every look-up answered as if the mart's newest row were the clock and its oldest aged row OLDEST. */
const answers = async (phase: LookupPhase) => {
  switch (phase.name) {
    case lookups.cutoffAfterApply:
    case lookups.cutoff:
      return { value: NOW };
    case lookups.oldestStaged:
    case lookups.oldestAged:
      return { value: OLDEST };
    // A batch of the last quarter of an hour (Redshift's literal ranges).
    case lookups.batchOldest:
      return { value: NOW - 900 };
    case lookups.batchNewest:
      return { value: NOW };
    default:
      throw new Error(`no golden answer for the look-up "${phase.name}"`);
  }
};

for (const dialect of [duckdbDialect, postgresDialect, redshiftDialect]) {
  describe(`mart SQL on ${dialect.name}`, () => {
    for (const spec of marts) {
      const cols = [...(columns[spec.source] as Column[]), ...loadColumns];
      const cycle: MartFacts = {
        schemas,
        columns: cols,
        fromBatch: 40,
        toBatch: 43,
        now: NOW,
        floor: FLOOR,
        badValues: false,
        histTables: [histTableName(spec, '2025_h2')],
        frozen: ['2025_h1'],
        fromUtiBatch: 39,
        toUtiBatch: 42,
        futureBatches: [3, 41],
        held: 'due',
      };
      it(`pins ${spec.name}: a cycle into a mart with history, one period frozen`, async () => {
        const text = await renderPlan(planMart(dialect, spec, cycle), answers);
        await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/${spec.name}.sql`);
      });

      if (spec.name === 'mart_uts')
        it(`pins ${spec.name}: a cycle while its table has open BAD_VALUE exceptions`, async () => {
          const text = await renderPlan(planMart(dialect, spec, { ...cycle, badValues: true }), answers);
          await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/${spec.name}.bad-values.sql`);
        });

      it(`pins ${spec.name}: the initial load into an empty mart`, async () => {
        const facts: MartFacts = {
          schemas,
          columns: cols,
          fromBatch: 0,
          toBatch: 3,
          now: NOW,
          floor: FLOOR,
          badValues: false,
          histTables: [],
          frozen: [],
          ...(spec.retention === 'order' ? { fromUtiBatch: 0, toUtiBatch: 1 } : {}),
          futureBatches: [],
          held: 'create',
        };
        const text = await renderPlan(planMart(dialect, spec, facts), answers);
        await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/${spec.name}.initial.sql`);
      });
    }

    it('pins the data tests', async () => {
      const range = { from: 40, to: 43 };
      const text = planDataTests(dialect, schemas, { mart_uti: range, mart_ecs: range, mart_uts: range })
        .map((t) => `-- ${t.name} (${t.severity})\n${t.sql};\n-- params: ${JSON.stringify(t.params)}\n`)
        .join('\n');
      await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/tests.sql`);
    });

    it('pins the unique tests of an initial load, which check every row', async () => {
      const range = { from: 0, to: 3 };
      const text = planDataTests(dialect, schemas, { mart_uti: range, mart_ecs: range, mart_uts: range })
        .filter((t) => t.name.startsWith('unique_'))
        .map((t) => `-- ${t.name} (${t.severity})\n${t.sql};\n-- params: ${JSON.stringify(t.params)}\n`)
        .join('\n');
      await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/tests.initial.sql`);
    });
  });
}
