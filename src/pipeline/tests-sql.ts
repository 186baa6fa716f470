import type { Schemas } from '../config/settings.js';
import type { Value } from '../engines/types.js';
import type { Dialect } from '../engines/warehouse/warehouse.js';
import { mart, marts, type MartName } from './marts.js';

export interface DataTest {
  readonly name: string;
  /** `error` fails the run; `warn` is recorded only (SPEC §3 tests). */
  readonly severity: 'error' | 'warn';
  /** Selects the failing rows as `(order_id, detail)`, at most `limit` of them. */
  readonly sql: string;
  readonly params: readonly Value[];
}

/** The raw batches `(from, to]` a mart applied in this run. */
export interface BatchRange {
  readonly from: number;
  readonly to: number;
}

/** Failing rows kept per test: enough to investigate, bounded so a broken mart cannot flood memory. */
export const FAILING_ROWS_LIMIT = 1000;

/**
 * The cycle's data tests (SPEC §3): unique and not-null keys on every mart, mart_uts orders present
 * in mart_uti. They check the rows this run wrote (found by their load batch, index-backed), which
 * is where a cycle can break a key: a full scan of a 1.17 B-row mart every 15 minutes would not
 * fit the tests' 5-minute budget. Unique is checked against the whole mart for those keys, except
 * on the marts in `enforced`, where a unique index on the key already makes a duplicate impossible.
 */
export const planDataTests = (
  d: Dialect,
  s: Schemas,
  ranges: Readonly<Partial<Record<MartName, BatchRange>>>,
  enforced: ReadonlySet<MartName> = new Set(),
): DataTest[] => {
  const tests: DataTest[] = [];
  for (const spec of marts) {
    const range = ranges[spec.name];
    if (!range) continue;
    const table = d.table(s.mart, spec.table);
    const key = spec.key.map(d.quote).join(', ');
    const detail = spec.key
      .map((k) => `coalesce(cast(${d.quote(k)} as varchar), 'NULL')`)
      .join(` || '/' || `);
    const written = `_batch_id > $1 and _batch_id <= $2`;
    const keyNull = spec.key.map((k) => `${d.quote(k)} is null`);
    // The mart's first batches (the initial load) wrote every row it holds: grouping them all finds
    // the same duplicates without first collecting the keys written (a second hash table over every
    // key). A NULL in the key never matches `in`, so such rows stay out here too.
    const keysWritten =
      range.from === 0
        ? `not (${keyNull.join(' or ')})`
        : spec.key.length === 1 || d.capabilities.rowValueIn
          ? `(${key}) in (select ${key} from ${table} where ${written})`
          : `exists (select 1 from ${table} w where ${spec.key.map((k) => `w.${d.quote(k)} = ${table}.${d.quote(k)}`).join(' and ')} and w._batch_id > $1 and w._batch_id <= $2)`;
    if (!enforced.has(spec.name))
      tests.push({
        name: `unique_${spec.name}`,
        severity: 'error',
        sql: `select min(order_id) as order_id, ${detail} || ' x' || cast(count(*) as varchar) as detail
from ${table}
where ${keysWritten}
group by ${key} having count(*) > 1
limit ${FAILING_ROWS_LIMIT}`,
        params: range.from === 0 ? [] : [range.from, range.to],
      });
    tests.push({
      name: `not_null_${spec.name}`,
      severity: 'error',
      sql: `select order_id, ${detail} as detail from ${table}
where ${written} and (${keyNull.join(' or ')})
limit ${FAILING_ROWS_LIMIT}`,
      params: [range.from, range.to],
    });
  }
  const uts = ranges.mart_uts;
  if (uts)
    tests.push({
      name: 'relationship_mart_uts_mart_uti',
      severity: 'warn',
      sql: `select distinct s.order_id, 'scan events without a mart_uti row' as detail
from ${d.table(s.mart, mart('mart_uts').table)} s
where s._batch_id > $1 and s._batch_id <= $2
  and not exists (select 1 from ${d.table(s.mart, mart('mart_uti').table)} u where u.order_id = s.order_id)
limit ${FAILING_ROWS_LIMIT}`,
      params: [uts.from, uts.to],
    });
  return tests;
};
