import type { Value } from '../../types.js';
import { qualifiedTable } from '../postgres/postgres-dialect.js';
import { targetName, type MaintenanceStep, type MaintenanceTarget } from '../warehouse.js';

/** One table's line of `svv_table_info` (Redshift lists only tables that hold rows). */
export interface RedshiftTableInfo {
  /** `unsorted`: percent of rows out of sort-key order (`null`: no sort key). */
  readonly unsorted: number | null;
  /** `stats_off`: how stale the planner's statistics are, 0 (current) to 100. */
  readonly statsOff: number | null;
}

/** Above this percent of unsorted rows mart_ecs is re-sorted (the seed's rule). */
export const REDSHIFT_SORT_UNSORTED_PERCENT = 15;
/** Above this `stats_off` a table is analyzed. */
export const REDSHIFT_ANALYZE_STATS_OFF = 10;

/** The UTC day of the week of `now` (epoch seconds): 0 is Sunday. */
export const utcWeekday = (now: number): number => new Date(now * 1000).getUTCDay();

/** `svv_table_info` for the targets (columns `table_schema`, `table_name`, `unsorted`, `stats_off`). */
export const redshiftTableInfoQuery = (
  targets: readonly MaintenanceTarget[],
): { readonly sql: string; readonly params: readonly Value[] } => ({
  sql: `select "schema" as table_schema, "table" as table_name, unsorted, stats_off
  from svv_table_info
 where ${targets.length === 0 ? 'false' : targets.map((_, i) => `("schema" = $${2 * i + 1} and "table" = $${2 * i + 2})`).join(' or ')}`,
  params: targets.flatMap((t) => [t.schema, t.table]),
});

/**
 * Redshift's maintenance plan, the seed's rules as data (SPEC §6), table by table in target order:
 *
 * - `vacuum delete only` of mart_uti and mart_uts every day, of mart_ecs on Sundays (UTC): the
 *   marts are where rows are replaced and archived; the rest only grows, or is trimmed rarely
 *   enough for Redshift's automatic vacuum delete;
 * - `vacuum sort only` of mart_ecs when more than 15 % of its rows are unsorted (its orders keep
 *   their row for months, so its inserts scatter over the sort key);
 * - `analyze` of any target whose `stats_off` exceeds 10.
 *
 * `weekday` is the UTC day of the run's clock (`utcWeekday`), `info` each table's `svv_table_info`
 * by `schema.table`; a table it does not list (an empty one) is neither sorted nor analyzed.
 */
export const redshiftMaintenancePlan = (
  targets: readonly MaintenanceTarget[],
  weekday: number,
  info: ReadonlyMap<string, RedshiftTableInfo>,
): MaintenanceStep[] =>
  targets.flatMap((t) => {
    const name = targetName(t);
    const table = qualifiedTable(t.schema, t.table);
    const facts = info.get(name);
    const steps: MaintenanceStep[] = [];
    if (t.role === 'mart' && (t.mart === 'mart_uti' || t.mart === 'mart_uts'))
      steps.push({
        action: 'VACUUM DELETE ONLY',
        sql: `vacuum delete only ${table}`,
        table: name,
        reason: `${t.mart}: daily`,
      });
    if (t.role === 'mart' && t.mart === 'mart_ecs' && weekday === 0)
      steps.push({
        action: 'VACUUM DELETE ONLY',
        sql: `vacuum delete only ${table}`,
        table: name,
        reason: 'mart_ecs: Sundays',
      });
    const unsorted = facts?.unsorted ?? null;
    if (
      t.role === 'mart' &&
      t.mart === 'mart_ecs' &&
      unsorted !== null &&
      unsorted > REDSHIFT_SORT_UNSORTED_PERCENT
    )
      steps.push({
        action: 'VACUUM SORT ONLY',
        sql: `vacuum sort only ${table}`,
        table: name,
        reason: `mart_ecs: ${unsorted} % unsorted (above ${REDSHIFT_SORT_UNSORTED_PERCENT})`,
      });
    const statsOff = facts?.statsOff ?? null;
    if (statsOff !== null && statsOff > REDSHIFT_ANALYZE_STATS_OFF)
      steps.push({
        action: 'ANALYZE',
        sql: `analyze ${table}`,
        table: name,
        reason: `${t.role}: stats_off ${statsOff} (above ${REDSHIFT_ANALYZE_STATS_OFF})`,
      });
    return steps;
  });
