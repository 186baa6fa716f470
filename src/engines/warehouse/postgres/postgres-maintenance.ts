import type { Value } from '../../types.js';
import { targetName, type MaintenanceStep, type MaintenanceTarget } from '../warehouse.js';
import { qualifiedTable } from './postgres-dialect.js';

/**
 * What PostgreSQL's statistics say a table went through since it was last vacuumed and analyzed
 * (`pg_stat_user_tables`), by us or by autovacuum.
 */
export interface PostgresTableActivity {
  /** `n_mod_since_analyze`: rows inserted, updated or deleted since the last ANALYZE. */
  readonly modSinceAnalyze: number;
  /** `n_ins_since_vacuum` (PostgreSQL 13+): rows inserted since the last VACUUM. */
  readonly insSinceVacuum: number;
  /** `n_dead_tup`: dead row versions no VACUUM has removed yet. */
  readonly deadTuples: number;
  /**
   * Any of `last_vacuum`, `last_autovacuum`, `last_analyze`, `last_autoanalyze` is set. They are
   * all empty after a statistics reset or a crash, like the counters above: such a table then
   * counts as written, so nothing written before the reset is left out.
   */
  readonly maintained: boolean;
}

/**
 * The statistics of the targets that exist as tables (columns `table_schema`, `table_name`,
 * `mod_since_analyze`, `ins_since_vacuum`, `dead_tuples`, `maintained`); a target without a row
 * is not a table here.
 */
export const postgresActivityQuery = (
  targets: readonly MaintenanceTarget[],
): { readonly sql: string; readonly params: readonly Value[] } => ({
  sql: `select schemaname as table_schema, relname as table_name,
       n_mod_since_analyze as mod_since_analyze, n_ins_since_vacuum as ins_since_vacuum,
       n_dead_tup as dead_tuples,
       coalesce(last_vacuum, last_autovacuum, last_analyze, last_autoanalyze) is not null as maintained
  from pg_stat_user_tables
 where (schemaname, relname) in (${targets.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')})`,
  params: targets.flatMap((t) => [t.schema, t.table]),
});

/** The activity query's rows by `schema.table`. */
export const postgresActivityByTable = (
  rows: readonly Record<string, Value>[],
): Map<string, PostgresTableActivity> =>
  new Map(
    rows.map((r) => [
      targetName({ schema: String(r.table_schema), table: String(r.table_name) }),
      {
        modSinceAnalyze: Number(r.mod_since_analyze ?? 0),
        insSinceVacuum: Number(r.ins_since_vacuum ?? 0),
        deadTuples: Number(r.dead_tuples ?? 0),
        maintained: r.maintained === true,
      },
    ]),
  );

const action = 'VACUUM (ANALYZE)';

const roleReason: Record<Exclude<MaintenanceTarget['role'], 'hist'>, string> = {
  mart: 'mart: rows replaced and archived every cycle',
  raw: 'raw: loaded every cycle, trimmed by the cleanup',
  ledger: 'exceptions ledger: opened and resolved every day',
};

/** Why a hist table is in the plan, or `null` when it is unchanged since its last vacuum and analyze. */
const histReason = (a: PostgresTableActivity): string | null => {
  if (!a.maintained) return 'hist: never vacuumed or analyzed (as far as the statistics remember)';
  if (a.modSinceAnalyze === 0 && a.insSinceVacuum === 0 && a.deadTuples === 0) return null;
  return `hist: written since its last vacuum or analyze (${a.modSinceAnalyze} rows changed since its last analyze, ${a.insSinceVacuum} inserted since its last vacuum, ${a.deadTuples} dead)`;
};

/**
 * PostgreSQL's maintenance plan (SPEC §6): `vacuum (analyze)` of each target in turn (VACUUM
 * refuses to run in a transaction block, so one statement per table, each on its own).
 *
 * The marts, raw and the exceptions ledger change every day: always in the plan. A hist table is
 * written only while its period is the one rows age into (and by the odd late row), so it is in the
 * plan only when the statistics show it written since it was last vacuumed or analyzed: rows
 * changed since the last ANALYZE, inserted since the last VACUUM, or dead rows not yet removed.
 * The last monitor's `vacuum (analyze)` zeroes all three, so "written since the last monitor" is
 * read from the server itself, not from our ledger; a table autovacuum has since vacuumed and
 * analyzed is left out, having nothing left to do. A target the statistics do not know (no such
 * table) is left out.
 */
export const postgresMaintenancePlan = (
  targets: readonly MaintenanceTarget[],
  activity: ReadonlyMap<string, PostgresTableActivity>,
): MaintenanceStep[] =>
  targets.flatMap((t) => {
    const a = activity.get(targetName(t));
    if (!a) return [];
    const reason = t.role === 'hist' ? histReason(a) : roleReason[t.role];
    if (reason === null) return [];
    return [
      { action, sql: `vacuum (analyze) ${qualifiedTable(t.schema, t.table)}`, table: targetName(t), reason },
    ];
  });
