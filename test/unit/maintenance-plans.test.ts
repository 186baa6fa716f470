/**
 * The engines' maintenance plans (SPEC §6) as pure functions: which tables, which statements, and
 * what each engine's catalog facts change.
 */
import { describe, expect, it } from 'vitest';
import { duckdbMaintenancePlan } from '../../src/engines/warehouse/duckdb/duckdb-maintenance.js';
import {
  postgresActivityByTable,
  postgresActivityQuery,
  postgresMaintenancePlan,
  type PostgresTableActivity,
} from '../../src/engines/warehouse/postgres/postgres-maintenance.js';
import {
  redshiftMaintenancePlan,
  redshiftTableInfoQuery,
  utcWeekday,
  type RedshiftTableInfo,
} from '../../src/engines/warehouse/redshift/redshift-maintenance.js';
import type { MaintenanceTarget } from '../../src/engines/warehouse/warehouse.js';
import { maintenanceNote } from '../../src/pipeline/monitor/maintenance.js';

const ods = 'settlement_ods';
const raw = 'settlement_public';
const targets: MaintenanceTarget[] = [
  { schema: ods, table: 'mart_uni_tracking_info', role: 'mart', mart: 'mart_uti' },
  { schema: ods, table: 'mart_ecs_order_info', role: 'mart', mart: 'mart_ecs' },
  { schema: ods, table: 'mart_uni_tracking_spath', role: 'mart', mart: 'mart_uts' },
  { schema: ods, table: 'hist_uni_tracking_info_2025_h1', role: 'hist' },
  { schema: ods, table: 'hist_uni_tracking_info_2025_h2', role: 'hist' },
  { schema: ods, table: 'hist_uni_tracking_spath_2025_h1', role: 'hist' },
  { schema: ods, table: 'hist_uni_tracking_spath_2025_h2', role: 'hist' },
  { schema: raw, table: 'uni_tracking_info_raw', role: 'raw' },
  { schema: raw, table: 'ecs_order_info_raw', role: 'raw' },
  { schema: raw, table: 'uni_tracking_spath_raw', role: 'raw' },
  { schema: ods, table: 'order_tracking_exceptions', role: 'ledger' },
];
const names = (steps: readonly { table: string | null }[]) => steps.map((s) => s.table);

describe('PostgreSQL maintenance plan', () => {
  const quiet: PostgresTableActivity = {
    modSinceAnalyze: 0,
    insSinceVacuum: 0,
    deadTuples: 0,
    maintained: true,
  };
  const activity = (overrides: Record<string, Partial<PostgresTableActivity>> = {}) =>
    new Map(targets.map((t) => [`${t.schema}.${t.table}`, { ...quiet, ...overrides[t.table] }]));

  it('vacuums and analyzes the marts, raw and the ledger, each in a statement of its own, in target order', () => {
    const plan = postgresMaintenancePlan(targets, activity());
    expect(names(plan)).toEqual([
      `${ods}.mart_uni_tracking_info`,
      `${ods}.mart_ecs_order_info`,
      `${ods}.mart_uni_tracking_spath`,
      `${raw}.uni_tracking_info_raw`,
      `${raw}.ecs_order_info_raw`,
      `${raw}.uni_tracking_spath_raw`,
      `${ods}.order_tracking_exceptions`,
    ]);
    expect(plan[0]).toMatchObject({
      action: 'VACUUM (ANALYZE)',
      sql: 'vacuum (analyze) "settlement_ods"."mart_uni_tracking_info"',
    });
    expect(plan.map((s) => s.sql).every((sql) => /^vacuum \(analyze\) "[^"]+"\."[^"]+"$/.test(sql))).toBe(
      true,
    );
    expect(plan.every((s) => s.reason.length > 0)).toBe(true);
  });

  it('takes a hist table only when written since its last vacuum or analyze', () => {
    const plan = postgresMaintenancePlan(
      targets,
      activity({
        hist_uni_tracking_info_2025_h2: { modSinceAnalyze: 120 },
        // Autoanalyzed since the inserts, never vacuumed since: still in.
        hist_uni_tracking_spath_2025_h2: { insSinceVacuum: 40 },
        // Rows deleted and analyzed, not yet vacuumed away.
        hist_uni_tracking_spath_2025_h1: { deadTuples: 3 },
      }),
    );
    const hist = plan.filter((s) => s.table?.includes('.hist_'));
    expect(names(hist)).toEqual([
      `${ods}.hist_uni_tracking_info_2025_h2`,
      `${ods}.hist_uni_tracking_spath_2025_h1`,
      `${ods}.hist_uni_tracking_spath_2025_h2`,
    ]);
    expect(hist[0]?.reason).toMatch(/120 rows changed/);
    // Hist tables go between the marts and raw, as the targets come.
    expect(plan.findIndex((s) => s.table === hist[0]?.table)).toBe(3);
  });

  it('takes a hist table the statistics know no vacuum or analyze of (new, or after a reset)', () => {
    const plan = postgresMaintenancePlan(
      targets,
      activity({ hist_uni_tracking_info_2025_h1: { maintained: false } }),
    );
    expect(names(plan)).toContain(`${ods}.hist_uni_tracking_info_2025_h1`);
    expect(plan.find((s) => s.table === `${ods}.hist_uni_tracking_info_2025_h1`)?.reason).toMatch(/never/);
  });

  it('leaves out a target the statistics do not list (no such table)', () => {
    const some = activity();
    some.delete(`${ods}.mart_ecs_order_info`);
    expect(names(postgresMaintenancePlan(targets, some))).not.toContain(`${ods}.mart_ecs_order_info`);
    expect(postgresMaintenancePlan(targets, new Map())).toEqual([]);
  });

  it('quotes names as identifiers', () => {
    const odd: MaintenanceTarget = { schema: 'my"ods', table: 'mart x', role: 'mart', mart: 'mart_uti' };
    const [step] = postgresMaintenancePlan([odd], new Map([['my"ods.mart x', quiet]]));
    expect(step?.sql).toBe('vacuum (analyze) "my""ods"."mart x"');
  });

  it('reads the statistics of exactly the targets, and maps their rows by schema.table', () => {
    const q = postgresActivityQuery(targets.slice(0, 2));
    expect(q.sql).toMatch(/from pg_stat_user_tables/);
    expect(q.sql).toMatch(/\(schemaname, relname\) in \(\(\$1, \$2\), \(\$3, \$4\)\)/);
    expect(q.params).toEqual([ods, 'mart_uni_tracking_info', ods, 'mart_ecs_order_info']);
    const byTable = postgresActivityByTable([
      {
        table_schema: ods,
        table_name: 'hist_x',
        mod_since_analyze: 5,
        ins_since_vacuum: '7',
        dead_tuples: null,
        maintained: false,
      },
    ]);
    expect(byTable.get(`${ods}.hist_x`)).toEqual({
      modSinceAnalyze: 5,
      insSinceVacuum: 7,
      deadTuples: 0,
      maintained: false,
    });
  });
});

describe('DuckDB maintenance plan', () => {
  it('is one checkpoint of the whole database, whatever the tables', () => {
    const plan = duckdbMaintenancePlan(targets);
    expect(plan).toEqual([
      { action: 'CHECKPOINT', sql: 'checkpoint', table: null, reason: expect.any(String) },
    ]);
    expect(duckdbMaintenancePlan([])).toEqual(plan);
  });
});

describe('Redshift maintenance plan', () => {
  const SUNDAY = Date.UTC(2025, 5, 1, 3) / 1000; // Sunday 1 June 2025, 03:00 UTC
  const MONDAY = SUNDAY + 86_400;
  const fresh = (overrides: Record<string, Partial<RedshiftTableInfo>> = {}) =>
    new Map(
      targets.map((t) => [`${t.schema}.${t.table}`, { unsorted: 0, statsOff: 0, ...overrides[t.table] }]),
    );
  const sqls = (plan: readonly { sql: string }[]) => plan.map((s) => s.sql);

  it('reads the weekday of the run clock in UTC', () => {
    expect(utcWeekday(SUNDAY)).toBe(0);
    expect(utcWeekday(MONDAY)).toBe(1);
    // 23:30 UTC on a Saturday is Sunday in Asia, still Saturday here.
    expect(utcWeekday(Date.UTC(2025, 4, 31, 23, 30) / 1000)).toBe(6);
  });

  it('on a weekday: VACUUM DELETE ONLY of mart_uti and mart_uts, not mart_ecs', () => {
    const plan = redshiftMaintenancePlan(targets, utcWeekday(MONDAY), fresh());
    expect(sqls(plan)).toEqual([
      'vacuum delete only "settlement_ods"."mart_uni_tracking_info"',
      'vacuum delete only "settlement_ods"."mart_uni_tracking_spath"',
    ]);
    expect(plan.every((s) => s.action === 'VACUUM DELETE ONLY')).toBe(true);
  });

  it('on Sunday: mart_ecs too, in target order', () => {
    const plan = redshiftMaintenancePlan(targets, utcWeekday(SUNDAY), fresh());
    expect(sqls(plan)).toEqual([
      'vacuum delete only "settlement_ods"."mart_uni_tracking_info"',
      'vacuum delete only "settlement_ods"."mart_ecs_order_info"',
      'vacuum delete only "settlement_ods"."mart_uni_tracking_spath"',
    ]);
    expect(plan[1]?.reason).toMatch(/Sunday/);
  });

  it('VACUUM SORT ONLY of mart_ecs above 15 % unsorted, any day; never of another table', () => {
    const at15 = redshiftMaintenancePlan(targets, 3, fresh({ mart_ecs_order_info: { unsorted: 15 } }));
    expect(at15.some((s) => s.action === 'VACUUM SORT ONLY')).toBe(false);
    const above = redshiftMaintenancePlan(
      targets,
      3,
      fresh({ mart_ecs_order_info: { unsorted: 15.5 }, mart_uni_tracking_info: { unsorted: 90 } }),
    );
    expect(above.filter((s) => s.action === 'VACUUM SORT ONLY')).toEqual([
      {
        action: 'VACUUM SORT ONLY',
        sql: 'vacuum sort only "settlement_ods"."mart_ecs_order_info"',
        table: 'settlement_ods.mart_ecs_order_info',
        reason: expect.stringMatching(/15\.5 % unsorted/),
      },
    ]);
    // Sunday: delete first, then sort, on the same table.
    const sunday = redshiftMaintenancePlan(targets, 0, fresh({ mart_ecs_order_info: { unsorted: 40 } }));
    expect(sqls(sunday).filter((s) => s.includes('mart_ecs_order_info'))).toEqual([
      'vacuum delete only "settlement_ods"."mart_ecs_order_info"',
      'vacuum sort only "settlement_ods"."mart_ecs_order_info"',
    ]);
  });

  it('ANALYZE of any target whose stats_off is above 10, after its vacuum', () => {
    const plan = redshiftMaintenancePlan(
      targets,
      2,
      fresh({
        mart_uni_tracking_info: { statsOff: 11 },
        hist_uni_tracking_spath_2025_h2: { statsOff: 50 },
        uni_tracking_info_raw: { statsOff: 10 },
        order_tracking_exceptions: { statsOff: 100 },
      }),
    );
    expect(sqls(plan)).toEqual([
      'vacuum delete only "settlement_ods"."mart_uni_tracking_info"',
      'analyze "settlement_ods"."mart_uni_tracking_info"',
      'vacuum delete only "settlement_ods"."mart_uni_tracking_spath"',
      'analyze "settlement_ods"."hist_uni_tracking_spath_2025_h2"',
      'analyze "settlement_ods"."order_tracking_exceptions"',
    ]);
    expect(plan.find((s) => s.sql.startsWith('analyze'))?.reason).toMatch(/stats_off 11/);
  });

  it('neither sorts nor analyzes a table svv_table_info does not list (empty), but still vacuums the daily marts', () => {
    const plan = redshiftMaintenancePlan(targets, 0, new Map());
    expect(sqls(plan)).toEqual([
      'vacuum delete only "settlement_ods"."mart_uni_tracking_info"',
      'vacuum delete only "settlement_ods"."mart_ecs_order_info"',
      'vacuum delete only "settlement_ods"."mart_uni_tracking_spath"',
    ]);
  });

  it('reads svv_table_info for exactly the targets', () => {
    const q = redshiftTableInfoQuery(targets.slice(0, 2));
    expect(q.sql).toMatch(/from svv_table_info/);
    expect(q.params).toEqual([ods, 'mart_uni_tracking_info', ods, 'mart_ecs_order_info']);
    expect(redshiftTableInfoQuery([]).sql).toMatch(/where false/);
  });
});

describe('maintenance note', () => {
  it('names each action with its table count and the time', () => {
    const pg = postgresMaintenancePlan(
      targets,
      new Map(
        targets.map((t) => [
          `${t.schema}.${t.table}`,
          { modSinceAnalyze: 1, insSinceVacuum: 0, deadTuples: 0, maintained: true },
        ]),
      ),
    );
    expect(maintenanceNote(pg, 1.234)).toBe('VACUUM (ANALYZE) 11 tables in 1.23 s');
    expect(maintenanceNote(duckdbMaintenancePlan([]), 0.05)).toBe('CHECKPOINT in 0.05 s');
    const rs = redshiftMaintenancePlan(
      targets,
      0,
      new Map([[`${ods}.mart_ecs_order_info`, { unsorted: 20, statsOff: 20 }]]),
    );
    expect(maintenanceNote(rs, 2)).toBe(
      'VACUUM DELETE ONLY 3 tables, VACUUM SORT ONLY 1 table, ANALYZE 1 table in 2.00 s',
    );
    expect(maintenanceNote([], 0)).toBe('nothing to maintain');
  });
});
