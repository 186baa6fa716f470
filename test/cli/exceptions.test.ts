/**
 * `order-tracking exceptions list / resolve` (SPEC §4, §8) through the real CLI on DuckDB + SQLite
 * and PostgreSQL + MariaDB: list counts per type unless asked for rows; resolve changes only
 * matching open rows, under the pipeline's lease; matching nothing fails; a bad flag is one line,
 * exit 2, nothing written.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/settings.js';
import { parseWarehouseUrl } from '../../src/config/urls.js';
import type { Value } from '../../src/engines/types.js';
import { openWarehouse } from '../../src/engines/warehouse/open.js';
import { withConnection } from '../../src/engines/warehouse/warehouse.js';
import { duckdbDialect } from '../../src/engines/warehouse/duckdb/duckdb-dialect.js';
import {
  exceptionsByType,
  planExceptionsByType,
  planListExceptions,
  planResolveExceptions,
  type ExceptionRow,
  type ExceptionsOfType,
} from '../../src/pipeline/exceptions.js';
import { leaseKey } from '../../src/runner/run-cycle.js';
import { cli, type CliResult } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000;

/**
 * SQL on the pair's warehouse through the engine's own connection (`$1` placeholders), opened and
 * closed per call. Not `p.warehouse`: that pool has no 'error' listener, so under load a session
 * still closing when `close()` drops the database (`with (force)`) surfaces as an unhandled 57P01.
 */
const warehouseSql = async (p: EnginePair, text: string, params: readonly Value[] = []) => {
  const warehouse = await openWarehouse(parseWarehouseUrl(p.warehouseUrl));
  try {
    return await withConnection(warehouse, (c) => c.query(text, params));
  } finally {
    await warehouse.close();
  }
};

interface Seed {
  readonly id: number;
  readonly type: string;
  readonly order: string | null;
  readonly detected: string;
  readonly resolved?: string;
  readonly notes?: string;
}

// Ids well above anything a run could assign; detected times give a stable newest-first order.
const seeds: readonly Seed[] = [
  {
    id: 9001,
    type: 'ARCHIVE_ROUTING_GAP',
    order: 'OT1',
    detected: '2026-05-28 10:00:00',
    notes: 'period frozen',
  },
  { id: 9002, type: 'ARCHIVE_ROUTING_GAP', order: 'OT2', detected: '2026-05-28 10:01:00' },
  {
    id: 9003,
    type: 'ARCHIVE_ROUTING_GAP',
    order: 'OT1',
    detected: '2026-05-28 09:00:00',
    resolved: '2026-05-28 09:30:00',
    notes: 'done',
  },
  { id: 9004, type: 'NULL_ORDER_ID', order: null, detected: '2026-05-28 10:02:00' },
  { id: 9005, type: 'DQ_MISSING_SPATH', order: 'OT3', detected: '2026-05-28 10:03:00' },
];

describe('exception statements', () => {
  const schemas = resolveSettings({}, {}).schemas;

  it('resolve touches open rows only, every value bound, every name quoted', () => {
    expect(
      planResolveExceptions(duckdbDialect, schemas, { type: 'ARCHIVE_ROUTING_GAP', orderId: "O'1" }, 'ok'),
    ).toEqual({
      sql: `update "settlement_ods"."order_tracking_exceptions"
   set "resolved_at" = current_timestamp, "notes" = substring(case when "notes" is null or "notes" = '' then cast($1 as varchar) else "notes" || '; ' || cast($1 as varchar) end, 1, 512)
 where "exception_type" = $2 and "order_id" = $3 and "resolved_at" is null`,
      params: ['ok', 'ARCHIVE_ROUTING_GAP', "O'1"],
    });
    expect(planResolveExceptions(duckdbDialect, schemas, { id: 7 }).params).toEqual([7]);
  });

  it('list binds its filters and writes its limit as a whole number', () => {
    const s = planListExceptions(duckdbDialect, schemas, { id: 3, openOnly: true }, 50);
    expect(s.sql).toMatch(/where "exception_id" = \$1 and "resolved_at" is null\n.*\n limit 50$/s);
    expect(s.params).toEqual([3]);
  });

  it('counts per type bind the type, and sort by type whatever the collation', () => {
    const s = planExceptionsByType(duckdbDialect, schemas, { type: 'NULL_ORDER_ID', openOnly: true });
    expect(s.sql).toMatch(
      /count\(\*\) as n, count\(\*\) - count\("resolved_at"\) as "open",\s+min\("detected_at"\) as oldest, max\("detected_at"\) as newest/,
    );
    expect(s.sql).toMatch(
      /where "exception_type" = \$1 and "resolved_at" is null\n group by "exception_type"/,
    );
    expect(s.params).toEqual(['NULL_ORDER_ID']);
    expect(planExceptionsByType(duckdbDialect, schemas).params).toEqual([]);
    // en_US would skip the `_` and put ARCHIVE_ROUTINGX last; the list sorts by code point everywhere.
    const row = (type: string) => ({ exception_type: type, n: 1, open: 0, oldest: null, newest: null });
    expect(
      exceptionsByType([
        row('ARCHIVE_ROUTING_GAP_UTS'),
        row('ARCHIVE_ROUTING_GAP'),
        row('ARCHIVE_ROUTINGX'),
      ]).map((t) => t.type),
    ).toEqual(['ARCHIVE_ROUTINGX', 'ARCHIVE_ROUTING_GAP', 'ARCHIVE_ROUTING_GAP_UTS']);
  });
});

for (const pair of pairs) {
  describe.skipIf(await pair.skip())(`exceptions on ${pair.name}`, () => {
    let p: EnginePair;
    const env = () => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(NOW),
    });
    const exceptions = (...args: string[]) => cli(['exceptions', ...args], env());
    const ok = (r: CliResult): CliResult => {
      expect(r.stderr, r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    const oneLine = (r: CliResult): string => {
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      return lines[0] ?? '';
    };
    /** Our seeded rows: id, whether open, when resolved, notes. */
    const ledger = async () =>
      (
        await warehouseSql(
          p,
          `select exception_id, cast(resolved_at as varchar) as resolved_at, notes from settlement_ods.order_tracking_exceptions
            where exception_id >= 9000 order by exception_id`,
        )
      ).map((r) => ({
        id: Number(r.exception_id),
        resolved: r.resolved_at !== null,
        resolvedAt: r.resolved_at,
        notes: r.notes,
      }));
    /** `list --json`, whichever view the flags give. */
    const listedJson = async (...args: string[]) =>
      JSON.parse(ok(await exceptions('list', '--json', ...args)).stdout) as
        | {
            view: 'rows';
            total: number;
            limit: number;
            exceptions: ExceptionRow[];
            snapshot: unknown;
          }
        | { view: 'byType'; total: number; open: number; byType: ExceptionsOfType[]; snapshot: unknown };
    /** `list --json` in the rows view (`--rows` unless the flags imply it). */
    const listed = async (...args: string[]) => {
      const r = await listedJson(...args);
      if (r.view !== 'rows') throw new Error(`list ${args.join(' ')} gave the ${r.view} view, not rows`);
      return r;
    };
    /** `list --json` in the counts-per-type view. */
    const byType = async (...args: string[]) => {
      const r = await listedJson(...args);
      if (r.view !== 'byType') throw new Error(`list ${args.join(' ')} gave the ${r.view} view, not byType`);
      return r;
    };

    beforeEach(async () => {
      p = await pair.create();
      await p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [1, 'OT1', 'TN1', 'IN_TRANSIT', 'DHL', 'Köln', NOW - 3600],
      );
      ok(await cli(['init'], env()));
      ok(await cli(['run'], env()));
      for (const s of seeds)
        await warehouseSql(
          p,
          `insert into settlement_ods.order_tracking_exceptions
             (exception_id, order_id, exception_type, source_table, source_id, detected_at, resolved_at, notes)
           values ($1, $2, $3, 'uni_tracking_info', $4, cast($5 as timestamp), cast($6 as timestamp), $7)`,
          [s.id, s.order, s.type, s.id - 9000, s.detected, s.resolved ?? null, s.notes ?? null],
        );
    });
    afterEach(async () => p.close());

    it('--rows lists newest first, filtered by --open, --type, --order and --limit', async () => {
      const all = await listed('--rows');
      expect(all.total).toBe(5);
      expect(all.exceptions.map((e) => e.exception_id)).toEqual([9005, 9004, 9002, 9001, 9003]);
      expect(all.exceptions[3]).toMatchObject({
        exception_type: 'ARCHIVE_ROUTING_GAP',
        order_id: 'OT1',
        source_table: 'uni_tracking_info',
        source_id: 1,
        detected_at: '2026-05-28T10:00:00.000Z',
        resolved_at: null,
        notes: 'period frozen',
      });

      expect((await listed('--rows', '--open')).exceptions.map((e) => e.exception_id)).toEqual([
        9005, 9004, 9002, 9001,
      ]);
      // Types are matched in any case.
      const gaps = await listed('--rows', '--type', 'archive_routing_gap', '--order', 'OT1');
      expect(gaps.exceptions.map((e) => e.exception_id)).toEqual([9001, 9003]);
      const limited = await listed('--rows', '--open', '--limit', '2');
      expect(limited).toMatchObject({ total: 4, limit: 2 });
      expect(limited.exceptions.map((e) => e.exception_id)).toEqual([9005, 9004]);

      const human = ok(await exceptions('list', '--rows', '--type', 'ARCHIVE_ROUTING_GAP', '--limit', '2'));
      const lines = human.stdout.trim().split('\n');
      expect(lines[0]).toMatch(
        /^\s*id\s+type\s+order_id\s+source row\s+event time\s+detected\s+resolved\s+notes$/,
      );
      expect(lines[1]).toMatch(
        /^9002\s+ARCHIVE_ROUTING_GAP\s+OT2\s+uni_tracking_info#2\s+2026-05-28 10:01:00\s+open$/,
      );
      expect(lines[2]).toMatch(/^9001\s+ARCHIVE_ROUTING_GAP\s+OT1\s+.*\s+open\s+period frozen$/);
      expect(lines[3]).toBe('3 matching, showing the newest 2 (--limit N for more)');

      const none = ok(await exceptions('list', '--order', 'NOPE'));
      expect(none.stdout.trim()).toBe('no exception matches --order NOPE');
    });

    it('counts per type by default: how many, how many open, oldest and newest, filtered by --open and --type', async () => {
      const gap = { type: 'ARCHIVE_ROUTING_GAP', count: 3, open: 2 };
      const all = await byType();
      expect(all).toEqual({
        view: 'byType',
        total: 5,
        open: 4,
        byType: [
          { ...gap, oldest: '2026-05-28T09:00:00.000Z', newest: '2026-05-28T10:01:00.000Z' },
          {
            type: 'DQ_MISSING_SPATH',
            count: 1,
            open: 1,
            oldest: '2026-05-28T10:03:00.000Z',
            newest: '2026-05-28T10:03:00.000Z',
          },
          {
            type: 'NULL_ORDER_ID',
            count: 1,
            open: 1,
            oldest: '2026-05-28T10:02:00.000Z',
            newest: '2026-05-28T10:02:00.000Z',
          },
        ],
        snapshot: null,
      });
      // --open: the resolved 9003 (the oldest) drops out of the count and of oldest.
      const open = await byType('--open');
      expect(open).toMatchObject({ total: 4, open: 4 });
      expect(open.byType[0]).toEqual({
        type: 'ARCHIVE_ROUTING_GAP',
        count: 2,
        open: 2,
        oldest: '2026-05-28T10:00:00.000Z',
        newest: '2026-05-28T10:01:00.000Z',
      });
      expect(open.byType.map((t) => [t.type, t.count])).toEqual([
        ['ARCHIVE_ROUTING_GAP', 2],
        ['DQ_MISSING_SPATH', 1],
        ['NULL_ORDER_ID', 1],
      ]);
      expect((await byType('--type', 'dq_missing_spath')).byType.map((t) => t.type)).toEqual([
        'DQ_MISSING_SPATH',
      ]);
      expect(await byType('--open', '--type', 'FUTURE_TIMESTAMP')).toEqual({
        view: 'byType',
        total: 0,
        open: 0,
        byType: [],
        snapshot: null,
      });

      const lines = ok(await exceptions('list'))
        .stdout.trimEnd()
        .split('\n');
      expect(lines).toHaveLength(6);
      expect(lines[0]).toMatch(/^type\s+count\s+open\s+oldest\s+newest$/);
      expect(lines[1]).toMatch(/^ARCHIVE_ROUTING_GAP\s+3\s+2\s+2026-05-28 09:00:00\s+2026-05-28 10:01:00$/);
      expect(lines[2]).toMatch(/^DQ_MISSING_SPATH\s+1\s+1\s+2026-05-28 10:03:00\s+2026-05-28 10:03:00$/);
      expect(lines[3]).toMatch(/^NULL_ORDER_ID\s+1\s+1\s+2026-05-28 10:02:00\s+2026-05-28 10:02:00$/);
      expect(lines[4]).toMatch(/^total\s+5\s+4\s+2026-05-28 09:00:00\s+2026-05-28 10:03:00$/);
      expect(lines[5]).toBe('5 matching, 4 open; --rows lists them, newest first');

      // One type: no total line.
      const one = ok(await exceptions('list', '--open', '--type', 'ARCHIVE_ROUTING_GAP')).stdout.trimEnd();
      expect(one.split('\n')).toEqual([
        expect.stringMatching(/^type\s+count\s+open\s+oldest\s+newest$/),
        expect.stringMatching(/^ARCHIVE_ROUTING_GAP\s+2\s+2\s+2026-05-28 10:00:00\s+2026-05-28 10:01:00$/),
        '2 open; --rows lists them, newest first',
      ]);
      const none = ok(await exceptions('list', '--open', '--type', 'FUTURE_TIMESTAMP'));
      expect(none.stdout.trim()).toBe('no exception matches --open --type FUTURE_TIMESTAMP');
    });

    it('--rows, --order and --id give rows, not counts', async () => {
      const rows = await listed('--rows', '--open', '--type', 'ARCHIVE_ROUTING_GAP');
      expect(rows).toMatchObject({ view: 'rows', total: 2, limit: 50, snapshot: null });
      expect(rows.exceptions.map((e) => e.exception_id)).toEqual([9002, 9001]);

      const order = await listed('--order', 'OT1');
      expect(order).toMatchObject({ view: 'rows', total: 2 });
      expect(order.exceptions.map((e) => e.exception_id)).toEqual([9001, 9003]);
      expect((await listed('--order', 'OT1', '--open')).exceptions.map((e) => e.exception_id)).toEqual([
        9001,
      ]);
      const limited = await listed('--order', 'OT1', '--limit', '1');
      expect(limited).toMatchObject({ total: 2, limit: 1 });
      expect(limited.exceptions.map((e) => e.exception_id)).toEqual([9001]);

      const id = await listed('--id', '9003');
      expect(id.exceptions).toEqual([
        expect.objectContaining({
          exception_id: 9003,
          resolved_at: '2026-05-28T09:30:00.000Z',
          notes: 'done',
        }),
      ]);
      expect((await listed('--id', '9003', '--open')).exceptions).toEqual([]);

      const human = ok(await exceptions('list', '--order', 'OT1'))
        .stdout.trimEnd()
        .split('\n');
      expect(human[0]).toMatch(
        /^\s*id\s+type\s+order_id\s+source row\s+event time\s+detected\s+resolved\s+notes$/,
      );
      expect(human.slice(1, -1).map((l) => l.split(/\s+/)[0])).toEqual(['9001', '9003']);
      expect(human.at(-1)).toBe('2 matching');
      expect(
        ok(await exceptions('list', '--id', '9004'))
          .stdout.trimEnd()
          .split('\n'),
      ).toEqual([
        expect.stringMatching(/^\s*id\s+type\s/),
        expect.stringMatching(/^9004\s+NULL_ORDER_ID\s+uni_tracking_info#4\s+2026-05-28 10:02:00\s+open$/),
        '1 matching',
      ]);
    });

    if (pair.name.startsWith('duckdb'))
      it('while a run holds the DuckDB file, counts per type come from the snapshot, for the whole ledger', async () => {
        // A run after the seeds leaves a snapshot that holds them.
        ok(await cli(['run'], env()));
        const live = await byType();
        const liveOpen = await byType('--open');
        const path = p.warehouseUrl.slice('duckdb:'.length);
        const holder = await DuckDBInstance.create(path);
        try {
          const held = await byType();
          expect(held.snapshot).toMatchObject({ activeRun: { pid: process.pid }, ledgerRows: 5 });
          expect({ ...held, snapshot: null }).toEqual(live);
          const heldOpen = await byType('--open');
          expect({ ...heldOpen, snapshot: null }).toEqual(liveOpen);
          expect((await byType('--type', 'NULL_ORDER_ID')).byType).toEqual(
            live.byType.filter((t) => t.type === 'NULL_ORDER_ID'),
          );

          const human = ok(await exceptions('list', '--open'))
            .stdout.trimEnd()
            .split('\n');
          expect(human[0]).toMatch(
            new RegExp(
              `^run active \\(pid ${process.pid}\\): the warehouse file is locked, showing the snapshot taken `,
            ),
          );
          expect(human[2]).toMatch(
            /^ARCHIVE_ROUTING_GAP\s+2\s+2\s+2026-05-28 10:00:00\s+2026-05-28 10:01:00$/,
          );
          expect(human.at(-1)).toBe('4 open; --rows lists them, newest first');

          const rows = await listed('--rows', '--type', 'ARCHIVE_ROUTING_GAP');
          expect(rows.exceptions.map((e) => e.exception_id)).toEqual([9002, 9001, 9003]);
          expect(rows.snapshot).toMatchObject({ rows: 5, ledgerRows: 5 });
        } finally {
          holder.closeSync();
        }
      });

    it('resolves by id, appending the note, and touches nothing else', async () => {
      const before = await ledger();
      const r = ok(await exceptions('resolve', '--id', '9002', '--note', 'checked by ops'));
      expect(r.stdout.trim()).toBe('resolved 1 open exception matching --id 9002');
      const after = await ledger();
      expect(after.find((e) => e.id === 9002)).toMatchObject({ resolved: true, notes: 'checked by ops' });
      expect(after.filter((e) => e.id !== 9002)).toEqual(before.filter((e) => e.id !== 9002));
    });

    it('resolves by type and order: only the open rows, an already resolved one keeps its time', async () => {
      const before = await ledger();
      const r = ok(
        await exceptions('resolve', '--type', 'ARCHIVE_ROUTING_GAP', '--order', 'OT1', '--note', 'unfroze'),
      );
      expect(r.stdout.trim()).toBe(
        'resolved 1 open exception matching --type ARCHIVE_ROUTING_GAP --order OT1',
      );
      const after = await ledger();
      expect(after.find((e) => e.id === 9001)).toMatchObject({
        resolved: true,
        notes: 'period frozen; unfroze',
      });
      expect(after.filter((e) => e.id !== 9001)).toEqual(before.filter((e) => e.id !== 9001));
      expect(after.find((e) => e.id === 9003)).toMatchObject({
        resolvedAt: '2026-05-28 09:30:00',
        notes: 'done',
      });

      const byType = ok(await exceptions('resolve', '--type', 'ARCHIVE_ROUTING_GAP'));
      expect(byType.stdout.trim()).toBe('resolved 1 open exception matching --type ARCHIVE_ROUTING_GAP');
      const last = await ledger();
      expect(last.map((e) => [e.id, e.resolved])).toEqual([
        [9001, true],
        [9002, true],
        [9003, true],
        [9004, false],
        [9005, false],
      ]);
      expect(last.find((e) => e.id === 9002)?.notes).toBeNull();
      expect((await listed('--rows', '--open')).exceptions.map((e) => e.exception_id)).toEqual([9005, 9004]);
    });

    it('exits 1 and changes nothing when no open exception matches', async () => {
      const before = await ledger();
      const already = await exceptions('resolve', '--id', '9003');
      expect(oneLine(already)).toBe(
        'order-tracking: no open exception matches --id 9003 (1 matching already resolved); nothing was changed',
      );
      expect(already.code).toBe(1);
      const typo = await exceptions('resolve', '--type', 'NULL_ORDER_ID', '--order', 'OT1');
      expect(oneLine(typo)).toBe(
        'order-tracking: no open exception matches --type NULL_ORDER_ID --order OT1; nothing was changed',
      );
      expect(typo.code).toBe(1);
      expect(await ledger()).toEqual(before);
    });

    it('rejects every bad flag with one line and exit 2, writing nothing', async () => {
      const before = await ledger();
      const cases: [string[], RegExp][] = [
        [['resolve'], /resolve needs --id N or --type T/],
        [['resolve', '--order', 'OT1'], /resolve needs --id N or --type T/],
        [['resolve', '--id', 'abc'], /--id "abc" is not a whole number/],
        [['resolve', '--id', '-1'], /--id "-1" is not a whole number/],
        [['resolve', '--id', '9001', '--type', 'ARCHIVE_ROUTING_GAP'], /either --id N or --type T/],
        [['resolve', '--type', 'BOGUS'], /--type "BOGUS" is not an exception type/],
        [['resolve', '--type', 'ARCHIVE_ROUTING_GAP', '--note', 'x'.repeat(300)], /--note is 300 characters/],
        [['list', '--type', 'nope'], /--type "nope" is not an exception type/],
        [['list', '--limit', 'ten'], /--limit "ten" is not a whole number/],
        [['list', '--limit', '0'], /--limit "0" is not a whole number/],
        [['list', '--rows', '--limit', 'ten'], /--limit "ten" is not a whole number/],
        [['list', '--id', 'x'], /--id "x" is not a whole number/],
        // Counts per type have no rows to limit.
        [
          ['list', '--limit', '5'],
          /^order-tracking: --limit limits rows: add --rows \(without it, list counts exceptions per type\)$/,
        ],
        [['list', '--open', '--type', 'NULL_ORDER_ID', '--limit', '5'], /--limit limits rows: add --rows/],
      ];
      // One at a time: a dozen CLI processes at once would starve this 2-core machine.
      for (const [args, message] of cases) {
        const r = await exceptions(...args);
        expect(oneLine(r), args.join(' ')).toMatch(/^order-tracking: /);
        expect(oneLine(r), args.join(' ')).toMatch(message);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stdout).toBe('');
      }
      expect(await ledger()).toEqual(before);
    });

    it('resolve takes the lease: while a run holds it, resolve exits 75 and changes nothing', async () => {
      const before = await ledger();
      const holder = await openWarehouse(parseWarehouseUrl(p.warehouseUrl));
      try {
        const lease = await holder.tryLease(leaseKey(resolveSettings({ warehouse: p.warehouseUrl }, {})));
        expect(lease).not.toBeNull();
        const r = await exceptions('resolve', '--id', '9001');
        expect(oneLine(r)).toMatch(
          /^order-tracking: another order-tracking (run is active|process .* is using the warehouse)/,
        );
        expect(r.code).toBe(75);
        await lease?.release();
      } finally {
        await holder.close();
      }
      expect(await ledger()).toEqual(before);
    });
  });
}
