import type { Schemas } from '../../config/settings.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { wholeLimit } from '../exceptions.js';
import { histTablePattern, marts, type MartName } from '../marts.js';
import { metaTables } from '../meta.js';
import type { Statement } from '../statement.js';
import { RECENT_RUNS } from './types.js';

/** The last `limit` runs, newest first. */
export const planRecentRuns = (d: Dialect, schemas: Schemas, limit = RECENT_RUNS): Statement => {
  const t = metaTables(schemas).runs;
  return {
    sql: `select run_id, kind, state, started_at, ended_at, error, summary
  from ${d.table(t.schema, t.name)}
 order by run_id desc
 limit ${wholeLimit(limit)}`,
    params: [],
  };
};

/** The latest run of a kind (`monitor`: the daily run), or no row. */
export const planLatestRunOfKind = (d: Dialect, schemas: Schemas, kind: string): Statement => {
  const t = metaTables(schemas).runs;
  return {
    sql: `select run_id, state, started_at, ended_at, error, summary
  from ${d.table(t.schema, t.name)}
 where kind = $1
 order by run_id desc
 limit 1`,
    params: [kind],
  };
};

/** Base tables of some schemas in the current database (information_schema: DuckDB, PostgreSQL, Redshift). */
export const planListTables = (schemas: readonly string[]): Statement => ({
  sql: `select table_schema, table_name
  from information_schema.tables
 where table_catalog = current_database()
   and table_type = 'BASE TABLE'
   and table_schema in (${schemas.map((_, i) => `$${i + 1}`).join(', ')})
 order by table_schema, table_name`,
  params: [...schemas],
});

/** `count(*)` of each table in one round trip; row `i` of the result is `tables[i]`. */
export const planRowCounts = (
  d: Dialect,
  tables: readonly { readonly schema: string; readonly table: string }[],
): Statement => ({
  sql: tables
    .map((t, i) => `select ${i} as i, count(*) as n from ${d.table(t.schema, t.table)}`)
    .join('\nunion all\n'),
  params: [],
});

/** The hist tables among a schema's tables, grouped by period, oldest period first (SPEC §2, §4). */
export const histTablesByPeriod = (
  tableNames: readonly string[],
): { readonly period: string; readonly tables: readonly { mart: MartName; table: string }[] }[] => {
  const byPeriod = new Map<string, { mart: MartName; table: string }[]>();
  for (const spec of marts) {
    const pattern = histTablePattern(spec);
    for (const table of tableNames) {
      const period = pattern.exec(table)?.[1];
      if (period === undefined) continue;
      byPeriod.set(period, [...(byPeriod.get(period) ?? []), { mart: spec.name, table }]);
    }
  }
  return [...byPeriod.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, tables]) => ({ period, tables }));
};
