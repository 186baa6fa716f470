/**
 * Golden files pin the SQL each mart task generates per dialect, for fixed facts (clock, batches,
 * columns, periods): a change to generated SQL shows up as a reviewed diff under test/golden/.
 */
import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/engines/types.js';
import { duckdbDialect } from '../../src/engines/warehouse/duckdb/duckdb-dialect.js';
import { postgresDialect } from '../../src/engines/warehouse/postgres/postgres-dialect.js';
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
  stageTable,
  type Statement,
} from '../../src/pipeline/mart-sql.js';
import { histTableName, marts } from '../../src/pipeline/marts.js';
import { parsePeriod, type Period } from '../../src/pipeline/periods.js';
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
const NOW = 1_780_000_000;
const render = (s: Statement): string =>
  `${s.sql};\n-- params: ${JSON.stringify(s.params)}${s.counts ? ` counts: ${s.counts}` : ''}${s.onlyFrom ? ` only from: ${s.onlyFrom} rows` : ''}\n`;
const periods = ['2025_h2', '2026_h1'].map((p) => parsePeriod(p) as Period);

for (const dialect of [duckdbDialect, postgresDialect]) {
  describe(`mart SQL on ${dialect.name}`, () => {
    for (const spec of marts) {
      it(`pins ${spec.name}`, async () => {
        const cols = [...(columns[spec.source] as Column[]), ...loadColumns];
        const facts = {
          schemas,
          columns: cols,
          fromBatch: 40,
          toBatch: 43,
          now: NOW,
          histTables: [histTableName(spec, '2025_h2')],
          fromUtiBatch: 39,
          toUtiBatch: 42,
          futureBatches: [3, 41],
        };
        const statements = [
          ...planStage(dialect, spec, facts),
          ...planBadRows(dialect, spec, facts),
          ...planApply(dialect, spec, facts),
          ...planRevive(dialect, spec, facts),
          planOldestAged(dialect, spec, schemas, NOW - 15_552_000),
          ...planArchive(dialect, spec, {
            schemas,
            columns: cols,
            cutoff: NOW - 15_552_000,
            periods,
            frozen: new Set(['2026_h1']),
            existing: [],
          }),
          ...planMark(dialect, schemas, spec.name, spec.source, 43),
        ];
        const text = statements.map(render).join('\n');
        await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/${spec.name}.sql`);
      });
    }

    for (const spec of marts)
      it(`pins ${spec.name}'s apply into an empty mart (the initial load)`, async () => {
        const facts = {
          schemas,
          columns: [...(columns[spec.source] as Column[]), ...loadColumns],
          fromBatch: 0,
          toBatch: 3,
          now: NOW,
          histTables: [],
          futureBatches: [],
        };
        const text = planApply(dialect, spec, facts).map(render).join('\n');
        await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/${spec.name}.initial.sql`);
      });

    for (const spec of marts.filter((m) => archivesStageFirst(dialect, m)))
      it(`pins ${spec.name}'s initial load whose aged rows go from the stage to hist (archiveStageFirst)`, async () => {
        const cols = [...(columns[spec.source] as Column[]), ...loadColumns];
        const facts = {
          schemas,
          columns: cols,
          fromBatch: 0,
          toBatch: 3,
          now: NOW,
          histTables: [],
          futureBatches: [],
        };
        const cutoff = NOW - 15_552_000;
        const stage = stageTable(spec);
        const archive = planArchive(
          dialect,
          spec,
          {
            schemas,
            columns: cols,
            cutoff,
            periods: [periods[0] as Period],
            frozen: new Set(),
            existing: [],
          },
          stage,
        );
        const text = [
          planApplyMaxTs(dialect, spec, schemas),
          planOldestAged(dialect, spec, schemas, cutoff, stage),
          ...planApply(dialect, spec, facts, archive),
        ]
          .map(render)
          .join('\n');
        await expect(text).toMatchFileSnapshot(`../golden/${dialect.name}/${spec.name}.stage-archive.sql`);
      });

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
