/**
 * Golden files pin the SQL each data-quality check of the monitor runs per dialect (SPEC §6), for
 * fixed facts (run id, clock, hist tables): the whole transaction of `planDqCheck` in the order the
 * dq task runs it, then the read of its `dq_results` row. A change to generated SQL shows up as a
 * reviewed diff under test/golden/.
 */
import { describe, expect, it } from 'vitest';
import { duckdbDialect } from '../../src/engines/warehouse/duckdb/duckdb-dialect.js';
import { postgresDialect } from '../../src/engines/warehouse/postgres/postgres-dialect.js';
import { redshiftDialect } from '../../src/engines/warehouse/redshift/redshift-dialect.js';
import { renderStatement } from '../../src/pipeline/mart-sql/render.js';
import { histTableName, mart } from '../../src/pipeline/marts.js';
import { dqChecks, planDqCheck, planDqResult, type DqFacts } from '../../src/pipeline/monitor/dq-sql.js';

const schemas = { raw: 'settlement_public', mart: 'settlement_ods', meta: 'order_tracking_meta' };
const NOW = 1_780_000_000; // 2026-05-28
const facts: DqFacts = {
  schemas,
  runId: 7,
  now: NOW,
  utsHistTables: ['2025_h1', '2025_h2'].map((p) => histTableName(mart('mart_uts'), p)),
};

for (const dialect of [duckdbDialect, postgresDialect, redshiftDialect]) {
  describe(`data-quality SQL on ${dialect.name}`, () => {
    for (const check of dqChecks)
      it(`pins ${check.name}: its transaction, then the read of its result`, async () => {
        const text = [...planDqCheck(dialect, check, facts), planDqResult(dialect, check, facts)]
          .map(renderStatement)
          .join('\n\n');
        await expect(`${text}\n`).toMatchFileSnapshot(`../golden/${dialect.name}/${check.name}.sql`);
      });

    it('pins dq_missing_spath on a warehouse without hist tables: mart_uts alone', async () => {
      const check = dqChecks.find((c) => c.name === 'dq_missing_spath')!;
      const [create] = planDqCheck(dialect, check, { ...facts, utsHistTables: [] });
      await expect(`${renderStatement(create!)}\n`).toMatchFileSnapshot(
        `../golden/${dialect.name}/dq_missing_spath.no-hist.sql`,
      );
    });
  });
}
