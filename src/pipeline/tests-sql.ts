import type { Schemas } from '../config/settings.js';
import type { Dialect } from '../engines/warehouse/warehouse.js';
import { mart, marts } from './marts.js';

export interface DataTest {
  readonly name: string;
  /** `error` fails the run; `warn` is recorded only (SPEC §3 tests). */
  readonly severity: 'error' | 'warn';
  /** Selects the failing rows as `(order_id, detail)`. */
  readonly sql: string;
}

/** The cycle's data tests (SPEC §3): unique and not-null keys on every mart, mart_uts ⊆ mart_uti. */
export const planDataTests = (d: Dialect, s: Schemas): DataTest[] => {
  const tests: DataTest[] = [];
  for (const spec of marts) {
    const table = d.table(s.mart, spec.table);
    const key = spec.key.map(d.quote).join(', ');
    const detail = spec.key
      .map((k) => `coalesce(cast(${d.quote(k)} as varchar), 'NULL')`)
      .join(` || '/' || `);
    tests.push(
      {
        name: `unique_${spec.name}`,
        severity: 'error',
        sql: `select min(order_id) as order_id, ${detail} || ' x' || cast(count(*) as varchar) as detail
from ${table} group by ${key} having count(*) > 1`,
      },
      {
        name: `not_null_${spec.name}`,
        severity: 'error',
        sql: `select order_id, ${detail} as detail from ${table}
where ${spec.key.map((k) => `${d.quote(k)} is null`).join(' or ')}`,
      },
    );
  }
  const uti = d.table(s.mart, mart('mart_uti').table);
  tests.push({
    name: 'relationship_mart_uts_mart_uti',
    severity: 'warn',
    sql: `select distinct s.order_id, 'scan events without a mart_uti row' as detail
from ${d.table(s.mart, mart('mart_uts').table)} s
where not exists (select 1 from ${uti} u where u.order_id = s.order_id)`,
  });
  return tests;
};
