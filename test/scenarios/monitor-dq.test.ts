/**
 * The monitor's data-quality checks (SPEC §6) through the real CLI, on DuckDB + SQLite and on
 * PostgreSQL + MariaDB: recent scans without a mart_uti row, mart_uti orders without scan events
 * (mart or hist) or without a mart_ecs row. Each run records one `dq_results` row per check, keeps
 * exactly one open `DQ_*` exception per failing order, and resolves it, saying why, once the order
 * no longer fails.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28
const HOUR = 3_600;
const DAY = 86_400;

const ECS_ORDERS = Array.from({ length: 12 }, (_, i) => `OT-ECS-${String(i + 1).padStart(2, '0')}`);

interface CheckResult {
  readonly check: string;
  readonly failing: number;
  readonly sample: string | null;
  readonly opened: number;
  readonly resolved: number;
}

const result = (check: string, failing: number, sample: string | null, opened = 0, resolved = 0) => ({
  check,
  failing,
  sample,
  opened,
  resolved,
});

const UTI = 'settlement_ods.mart_uni_tracking_info';
const ECS = 'settlement_ods.mart_ecs_order_info';
const UTS = 'settlement_ods.mart_uni_tracking_spath';

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`monitor dq on ${pair.name}`, () => {
    let p: EnginePair;
    const env = (now: number) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(now),
    });
    let nextId = 1;

    /** One order in the source: its tracking row and ecs row (when given) and its scans. */
    const order = async (
      orderId: string,
      o: { readonly uti?: number; readonly ecs?: number; readonly scans: readonly number[] },
    ) => {
      const id = nextId++;
      if (o.uti !== undefined)
        await p.source(
          'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
          [id, orderId, `TN${id}`, 'IN_TRANSIT', 'DHL', 'Lyon', o.uti],
        );
      if (o.ecs !== undefined)
        await p.source(
          'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
          [id, orderId, 7, 'Ada', 'Lyon', 1200, o.ecs],
        );
      for (const [i, pathTime] of o.scans.entries())
        await p.source(
          'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
          [id * 100 + i, orderId, i + 1, pathTime, 'Lyon', 'ARRIVE', null],
        );
    };

    /**
     * A small history, every order whole after the first run: OT-SPATH and OT-HIST-ONLY have a scan
     * 200 days old (archived to hist_uni_tracking_spath_2025_h2), OT-HIST-ONLY no other, and
     * OT-OLD-SCANS only scans three days old and no tracking or ecs row (out of the 24 h the
     * alignment check looks at).
     */
    beforeEach(async () => {
      p = await pair.create();
      nextId = 1;
      const whole = { uti: NOW - HOUR, ecs: NOW - 3 * DAY };
      await order('OT-ALIGN', { ...whole, scans: [NOW - 2 * HOUR, NOW - HOUR] });
      await order('OT-SPATH', { ...whole, scans: [NOW - 200 * DAY, NOW - 2 * HOUR] });
      await order('OT-HIST-ONLY', { ...whole, scans: [NOW - 200 * DAY] });
      await order('OT-OLD-SCANS', { scans: [NOW - 3 * DAY] });
      for (const id of ECS_ORDERS) await order(id, { ...whole, scans: [NOW - HOUR] });
      expect((await cli(['init'], env(NOW))).code).toBe(0);
      const r = await cli(['run'], env(NOW));
      expect(r.stderr).not.toMatch(/order-tracking:/);
      expect(r.code).toBe(0);
    });
    afterEach(async () => p.close());

    const HIST = 'settlement_ods.hist_uni_tracking_spath_2025_h2';

    const monitor = async (now: number, ...flags: string[]) => {
      const r = await cli(['monitor', '--only', 'dq', '--json', ...flags], env(now));
      const out = JSON.parse(r.stdout) as {
        runId: number;
        state: string;
        steps: {
          step: string;
          state: string;
          findings: number;
          note: string;
          details: { checks: CheckResult[] };
        }[];
      };
      expect(out.steps.map((s) => s.step)).toEqual(['dq']);
      const dq = out.steps[0]!;
      expect(dq.state).toBe('success');
      return { code: r.code, stderr: r.stderr, runId: out.runId, dq, checks: dq.details.checks };
    };

    const dqResults = (runId: number) =>
      p.warehouse(
        'select check_name, failing, sample from order_tracking_meta.dq_results where run_id = $1 order by check_name',
        [runId],
      );

    const dqExceptions = async (open: boolean) =>
      p.warehouse(
        `select exception_type, order_id, source_table, event_time, notes from settlement_ods.order_tracking_exceptions
          where exception_type like 'DQ_%' and resolved_at is ${open ? '' : 'not '}null
          order by exception_type, order_id, exception_id`,
      );

    /** Moves rows aside into a scratch table, or back. */
    const setAside = async (table: string, where: string, scratch: string) => {
      await p.warehouse(`create table settlement_ods.${scratch} as select * from ${table} where ${where}`);
      await p.warehouse(`delete from ${table} where ${where}`);
    };
    const putBack = async (table: string, scratch: string) => {
      await p.warehouse(`insert into ${table} select * from settlement_ods.${scratch}`);
      await p.warehouse(`drop table settlement_ods.${scratch}`);
    };

    it('finds nothing in a whole warehouse: scans in hist count, scans older than 24 h are not checked', async () => {
      // The history is what the test means it to be.
      expect(await p.warehouse(`select order_id from ${UTS} where order_id = 'OT-HIST-ONLY'`)).toEqual([]);
      expect(await p.warehouse(`select order_id from ${HIST} order by order_id`)).toEqual([
        { order_id: 'OT-HIST-ONLY' },
        { order_id: 'OT-SPATH' },
      ]);
      expect(await p.warehouse(`select order_id from ${UTS} where order_id = 'OT-OLD-SCANS'`)).toEqual([
        { order_id: 'OT-OLD-SCANS' },
      ]);

      const m = await monitor(NOW + 60, '--fail-on-findings');
      expect(m.code).toBe(0);
      expect(m.dq.findings).toBe(0);
      expect(m.dq.note).toBe('dq_uti_uts_alignment 0, dq_missing_spath 0, dq_reactivated_missing_ecs 0');
      expect(m.checks).toEqual([
        result('dq_uti_uts_alignment', 0, null),
        result('dq_missing_spath', 0, null),
        result('dq_reactivated_missing_ecs', 0, null),
      ]);
      expect(await dqResults(m.runId)).toEqual([
        { check_name: 'dq_missing_spath', failing: 0, sample: null },
        { check_name: 'dq_reactivated_missing_ecs', failing: 0, sample: null },
        { check_name: 'dq_uti_uts_alignment', failing: 0, sample: null },
      ]);
      expect(await dqExceptions(true)).toEqual([]);
      // The run is in the ledger as a monitor run.
      expect(
        await p.warehouse('select kind, state from order_tracking_meta.runs where run_id = $1', [m.runId]),
      ).toEqual([{ kind: 'monitor', state: 'success' }]);
    });

    it('opens one exception per failing order, never a second, and resolves it once repaired', async () => {
      await setAside(UTI, "order_id = 'OT-ALIGN'", 'saved_uti');
      await setAside(UTS, "order_id = 'OT-SPATH'", 'saved_uts');
      await setAside(HIST, "order_id = 'OT-SPATH'", 'saved_hist');
      await setAside(ECS, "order_id like 'OT-ECS-%'", 'saved_ecs');

      const first = await monitor(NOW + 60);
      expect(first.code).toBe(0);
      const sample = ECS_ORDERS.slice(0, 10).join(',');
      expect(first.checks).toEqual([
        result('dq_uti_uts_alignment', 1, 'OT-ALIGN', 1),
        result('dq_missing_spath', 1, 'OT-SPATH', 1),
        result('dq_reactivated_missing_ecs', 12, sample, 12),
      ]);
      expect(first.dq.findings).toBe(14);
      expect(first.dq.note).toBe(
        'dq_uti_uts_alignment 1 (+1 opened), dq_missing_spath 1 (+1 opened), dq_reactivated_missing_ecs 12 (+12 opened)',
      );
      expect(await dqResults(first.runId)).toEqual([
        { check_name: 'dq_missing_spath', failing: 1, sample: 'OT-SPATH' },
        { check_name: 'dq_reactivated_missing_ecs', failing: 12, sample },
        { check_name: 'dq_uti_uts_alignment', failing: 1, sample: 'OT-ALIGN' },
      ]);
      const found = `found by monitor run ${first.runId}`;
      const opened = [
        {
          exception_type: 'DQ_MISSING_SPATH',
          order_id: 'OT-SPATH',
          source_table: 'mart_uni_tracking_info',
          event_time: NOW - HOUR,
          notes: `in mart_uni_tracking_info but no scan event in mart_uni_tracking_spath or any hist_uni_tracking_spath table; ${found}`,
        },
        ...ECS_ORDERS.map((id) => ({
          exception_type: 'DQ_REACTIVATED_MISSING_ECS',
          order_id: id,
          source_table: 'mart_uni_tracking_info',
          event_time: NOW - HOUR,
          notes: `in mart_uni_tracking_info but no mart_ecs_order_info row; ${found}`,
        })),
        {
          exception_type: 'DQ_UTI_UTS_ALIGNMENT',
          order_id: 'OT-ALIGN',
          source_table: 'mart_uni_tracking_spath',
          event_time: NOW - HOUR,
          notes: `scan events in mart_uni_tracking_spath within 24 h of the clock but no mart_uni_tracking_info row; ${found}`,
        },
      ];
      expect(await dqExceptions(true)).toEqual(opened);

      // The same findings again: recorded for the new run, nothing opened twice.
      const second = await monitor(NOW + 120, '--fail-on-findings');
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`monitor run ${second.runId} found 14 findings (--fail-on-findings)`);
      expect(second.checks).toEqual([
        result('dq_uti_uts_alignment', 1, 'OT-ALIGN'),
        result('dq_missing_spath', 1, 'OT-SPATH'),
        result('dq_reactivated_missing_ecs', 12, sample),
      ]);
      expect(await dqResults(second.runId)).toEqual(await dqResults(first.runId));
      expect(await dqExceptions(true)).toEqual(opened);
      expect(await dqExceptions(false)).toEqual([]);

      // Repaired: the rows back where they were.
      await putBack(UTI, 'saved_uti');
      await putBack(UTS, 'saved_uts');
      await putBack(HIST, 'saved_hist');
      await putBack(ECS, 'saved_ecs');
      const third = await monitor(NOW + 180);
      expect(third.checks).toEqual([
        result('dq_uti_uts_alignment', 0, null, 0, 1),
        result('dq_missing_spath', 0, null, 0, 1),
        result('dq_reactivated_missing_ecs', 0, null, 0, 12),
      ]);
      expect(third.dq.note).toBe(
        'dq_uti_uts_alignment 0 (1 resolved), dq_missing_spath 0 (1 resolved), dq_reactivated_missing_ecs 0 (12 resolved)',
      );
      expect(await dqExceptions(true)).toEqual([]);
      const cleared = (what: string) => `; cleared: ${what} found by monitor run ${third.runId}`;
      expect(await dqExceptions(false)).toEqual(
        opened.map((e) => ({
          ...e,
          notes:
            e.notes +
            cleared(
              e.exception_type === 'DQ_UTI_UTS_ALIGNMENT'
                ? 'mart_uni_tracking_info row'
                : e.exception_type === 'DQ_MISSING_SPATH'
                  ? 'scan events'
                  : 'mart_ecs_order_info row',
            ),
        })),
      );
      // Resolving is once: a later run changes no resolved row.
      const resolvedRows = () =>
        p.warehouse(
          `select exception_id, resolved_at, notes from settlement_ods.order_tracking_exceptions
            where exception_type like 'DQ_%' order by exception_id`,
        );
      const before = await resolvedRows();
      const fourth = await monitor(NOW + 240);
      expect(fourth.checks.map((c) => c.resolved)).toEqual([0, 0, 0]);
      expect(await resolvedRows()).toEqual(before);
    });

    it('resolves an order that stopped failing another way, and opens a new one when it fails again', async () => {
      await setAside(UTI, "order_id = 'OT-ALIGN'", 'saved_align');
      await setAside(ECS, "order_id = 'OT-ECS-01'", 'saved_ecs');
      const first = await monitor(NOW + 60);
      expect(first.checks.map((c) => [c.failing, c.opened])).toEqual([
        [1, 1],
        [0, 0],
        [1, 1],
      ]);

      // OT-ECS-01 leaves mart_uti: no longer missing its ecs row, but now its recent scans have no
      // tracking row.
      await setAside(UTI, "order_id = 'OT-ECS-01'", 'saved_ecs_uti');
      const second = await monitor(NOW + 120);
      expect(second.checks).toEqual([
        result('dq_uti_uts_alignment', 2, 'OT-ALIGN,OT-ECS-01', 1),
        result('dq_missing_spath', 0, null),
        result('dq_reactivated_missing_ecs', 0, null, 0, 1),
      ]);
      expect(
        await p.warehouse(
          "select order_id, notes from settlement_ods.order_tracking_exceptions where exception_type = 'DQ_REACTIVATED_MISSING_ECS'",
        ),
      ).toEqual([
        {
          order_id: 'OT-ECS-01',
          notes: `in mart_uni_tracking_info but no mart_ecs_order_info row; found by monitor run ${first.runId}; cleared: order no longer in mart_uni_tracking_info at monitor run ${second.runId}`,
        },
      ]);

      // Two days on, their scans are no longer recent: the alignment exceptions clear, saying so.
      const third = await monitor(NOW + 2 * DAY);
      expect(third.checks[0]).toEqual(result('dq_uti_uts_alignment', 0, null, 0, 2));
      expect(
        (
          await p.warehouse(
            "select notes from settlement_ods.order_tracking_exceptions where exception_type = 'DQ_UTI_UTS_ALIGNMENT' and resolved_at is not null order by order_id",
          )
        ).map((r) => String(r.notes).split('; ').at(-1)),
      ).toEqual(
        Array.from(
          { length: 2 },
          () =>
            `cleared: no scan event in mart_uni_tracking_spath within 24 h of the clock of monitor run ${third.runId}`,
        ),
      );

      // OT-ECS-01's tracking row is back, still without its ecs row: a new exception, the resolved one kept.
      await putBack(UTI, 'saved_ecs_uti');
      const fourth = await monitor(NOW + 2 * DAY + 60);
      expect(fourth.checks[2]).toEqual(result('dq_reactivated_missing_ecs', 1, 'OT-ECS-01', 1));
      expect(
        await p.warehouse(
          `select order_id, resolved_at is null as open from settlement_ods.order_tracking_exceptions
            where exception_type = 'DQ_REACTIVATED_MISSING_ECS' order by exception_id`,
        ),
      ).toEqual([
        { order_id: 'OT-ECS-01', open: false },
        { order_id: 'OT-ECS-01', open: true },
      ]);
    });
  });
}
