/**
 * The extraction half of the cycle (SPEC §3: check_drift → calc_window → extract → validate), one
 * body for DuckDB + SQLite and PostgreSQL + MariaDB, driven through the real CLI.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28, a fixed clock for every run
const HOUR = 3600;

const spathColumns = 'id, order_id, traceSeq, pathTime, scan_site, scan_type, remark';
const insertScan = (
  p: EnginePair,
  id: number,
  order: string | null,
  seq: number,
  pathTime: number,
  remark: string | null = null,
) =>
  p.source(`insert into uni_tracking_spath (${spathColumns}) values (?, ?, ?, ?, ?, ?, ?)`, [
    id,
    order,
    seq,
    pathTime,
    'Zürich 配送中心',
    'ARRIVE',
    remark,
  ]);
const insertTracking = (
  p: EnginePair,
  id: number,
  order: string | null,
  updateTime: number,
  location = 'Köln',
) =>
  p.source(
    'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
    [id, order, `TN${id}`, 'IN_TRANSIT', 'DHL', location, updateTime],
  );
const insertOrder = (p: EnginePair, id: number, order: string | null, addTime: number) =>
  p.source(
    'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
    [id, order, 7, 'Zoë 😀', 'Lyon', 1200, addTime],
  );

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`extraction on ${pair.name}`, () => {
    let p: EnginePair;
    const env = () => ({ ORDER_TRACKING_WAREHOUSE: p.warehouseUrl, ORDER_TRACKING_SOURCE: p.sourceUrl });
    const run = async (now = NOW, extra: Record<string, string> = {}) =>
      cli(['run'], { ...env(), ORDER_TRACKING_NOW: String(now), ...extra });
    const ok = async (now = NOW) => {
      const r = await run(now);
      expect(r.stderr).not.toMatch(/order-tracking:/);
      expect(r.code).toBe(0);
      return r;
    };
    const raw = (table: string, columns = '*') =>
      p.warehouse(`select ${columns} from settlement_public.${table}_raw order by _batch_id, id`);
    const watermarks = () =>
      p.warehouse('select table_name, value from order_tracking_meta.watermarks order by table_name');
    // PostgreSQL reads raw by batch through an index the table's first load builds once its rows
    // are in; DuckDB and Redshift have none (zone maps). The Redshift double's catalog is
    // PostgreSQL's, so it is read there too: it must hold no index.
    const batchIndexes = async () =>
      pair.name.startsWith('postgres') || p.double
        ? (
            await p.warehouse(
              "select tablename from pg_indexes where schemaname = 'settlement_public' and indexdef like '%(_batch_id)' order by tablename",
            )
          ).map((r) => r.tablename)
        : [];
    const allBatchIndexes = pair.name.startsWith('postgres')
      ? ['ecs_order_info_raw', 'uni_tracking_info_raw', 'uni_tracking_spath_raw']
      : [];

    beforeEach(async () => {
      p = await pair.create();
      const init = await cli(['init'], env());
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
    });
    afterEach(async () => p.close());

    it('init is idempotent', async () => {
      const again = await cli(['init'], env());
      expect(again.code).toBe(0);
      const tables = await p.warehouse(
        `select table_schema, table_name from information_schema.tables
          where table_schema in ('settlement_public', 'settlement_ods', 'order_tracking_meta') order by 1, 2`,
      );
      expect(tables.map((t) => `${t.table_schema}.${t.table_name}`)).toEqual([
        'order_tracking_meta.batches',
        'order_tracking_meta.dq_results',
        // Redshift has no advisory locks: the pipeline lease is a row of this table.
        ...(p.double ? ['order_tracking_meta.leases'] : []),
        'order_tracking_meta.mart_state',
        'order_tracking_meta.runs',
        'order_tracking_meta.schema_changes',
        'order_tracking_meta.task_instances',
        'order_tracking_meta.test_failures',
        'order_tracking_meta.watermarks',
        'settlement_ods.mart_ecs_order_info',
        'settlement_ods.mart_uni_tracking_info',
        'settlement_ods.mart_uni_tracking_spath',
        'settlement_ods.order_tracking_exceptions',
        'settlement_public.ecs_order_info_raw',
        'settlement_public.uni_tracking_info_raw',
        'settlement_public.uni_tracking_spath_raw',
      ]);
    });

    it('lands every row exactly as in the source: all columns, Unicode intact, NULLs kept', async () => {
      const odd = 'e\u0301 ñ 漢字 🚚\u200d📦 "q" \\ tab\there\nnewline';
      await insertTracking(p, 1, 'OT1', NOW - 5 * HOUR, odd);
      await insertTracking(p, 2, null, NOW - 4 * HOUR);
      await insertOrder(p, 1, 'OT1', NOW - 6 * HOUR);
      await insertOrder(p, 2, null, NOW - 6 * HOUR);
      await insertScan(p, 1, 'OT1', 1, NOW - 5 * HOUR, odd);
      await insertScan(p, 2, null, 1, NOW - 4 * HOUR, null);
      await ok();

      const uti = await raw(
        'uni_tracking_info',
        'id, order_id, tracking_no, status, carrier, location, update_time',
      );
      expect(uti).toEqual([
        {
          id: 1,
          order_id: 'OT1',
          tracking_no: 'TN1',
          status: 'IN_TRANSIT',
          carrier: 'DHL',
          location: odd,
          update_time: NOW - 5 * HOUR,
        },
        {
          id: 2,
          order_id: null,
          tracking_no: 'TN2',
          status: 'IN_TRANSIT',
          carrier: 'DHL',
          location: 'Köln',
          update_time: NOW - 4 * HOUR,
        },
      ]);
      const ecs = await raw(
        'ecs_order_info',
        'id, order_id, partner_id, customer_name, destination, weight_grams, add_time',
      );
      expect(ecs).toEqual([
        {
          id: 1,
          order_id: 'OT1',
          partner_id: 7,
          customer_name: 'Zoë 😀',
          destination: 'Lyon',
          weight_grams: 1200,
          add_time: NOW - 6 * HOUR,
        },
        {
          id: 2,
          order_id: null,
          partner_id: 7,
          customer_name: 'Zoë 😀',
          destination: 'Lyon',
          weight_grams: 1200,
          add_time: NOW - 6 * HOUR,
        },
      ]);
      const uts = await raw('uni_tracking_spath', 'id, order_id, traceseq, pathtime, scan_site, remark');
      expect(uts).toEqual([
        {
          id: 1,
          order_id: 'OT1',
          traceseq: 1,
          pathtime: NOW - 5 * HOUR,
          scan_site: 'Zürich 配送中心',
          remark: odd,
        },
        {
          id: 2,
          order_id: null,
          traceseq: 1,
          pathtime: NOW - 4 * HOUR,
          scan_site: 'Zürich 配送中心',
          remark: null,
        },
      ]);
      expect(await watermarks()).toEqual([
        { table_name: 'ecs_order_info', value: 2 },
        { table_name: 'uni_tracking_info', value: NOW - 4 * HOUR },
        { table_name: 'uni_tracking_spath', value: 2 },
      ]);
    });

    it('re-reads the overlap without losing a row, and picks up a scan with an hours-old pathTime', async () => {
      for (let i = 1; i <= 30; i++) await insertScan(p, i, `OT${i}`, 1, NOW - 2 * HOUR + i);
      await ok();
      // Uploaded late: its pathTime is 5 hours old, its id is new.
      await insertScan(p, 31, 'OT-late', 1, NOW - 5 * HOUR);
      await ok(NOW + 900);
      const rows = await raw('uni_tracking_spath', 'id, _batch_id');
      const ids = new Set(rows.map((r) => r.id));
      expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: 31 }, (_, i) => i + 1),
      );
      // The second window started overlap ids below the watermark, so it read the first 30 again.
      expect(rows.filter((r) => r.id === 31)).toHaveLength(1);
      expect(rows.length).toBe(61);
    });

    it('leaves mart rows the overlap re-reads unchanged as they were, and takes a row changed in place', async () => {
      for (let i = 1; i <= 3; i++) await insertScan(p, i, `OT${i}`, 1, NOW - HOUR + i, `r${i}`);
      await insertOrder(p, 1, 'OT1', NOW - HOUR);
      await ok();
      const mart = (table: string, columns: string) =>
        p.warehouse(`select ${columns} from settlement_ods.${table} order by id`);
      const scans = await mart('mart_uni_tracking_spath', 'id, remark, _batch_id');
      const orders = await mart('mart_ecs_order_info', 'id, _batch_id');
      expect(scans).toHaveLength(3);

      // Nothing new: the overlap lands the same rows in raw again, but no mart row is rewritten.
      await ok(NOW + 900);
      expect((await raw('uni_tracking_spath', 'id')).length).toBe(6);
      expect(await mart('mart_uni_tracking_spath', 'id, remark, _batch_id')).toEqual(scans);
      expect(await mart('mart_ecs_order_info', 'id, _batch_id')).toEqual(orders);

      // The same version (same id, same key) with other values: the newer load still wins.
      await p.source('update uni_tracking_spath set remark = ? where id = ?', ['corrected', 2]);
      await ok(NOW + 1800);
      const after = await mart('mart_uni_tracking_spath', 'id, remark, _batch_id');
      expect(after.map((r) => [r.id, r.remark])).toEqual([
        [1, 'r1'],
        [2, 'corrected'],
        [3, 'r3'],
      ]);
      expect(Number(after[1]?._batch_id)).toBeGreaterThan(Number(scans[1]?._batch_id));
      expect(after[0]?._batch_id).toEqual(scans[0]?._batch_id);

      // A value cleared to NULL, and a NULL filled in, are changes too (NULL = value is not false).
      await p.source('update uni_tracking_spath set remark = null where id = ?', [2]);
      await ok(NOW + 2700);
      expect((await mart('mart_uni_tracking_spath', 'id, remark')).map((r) => r.remark)).toEqual([
        'r1',
        null,
        'r3',
      ]);
      await p.source('update uni_tracking_spath set remark = ? where id = ?', ['found', 2]);
      await ok(NOW + 3600);
      expect((await mart('mart_uni_tracking_spath', 'id, remark')).map((r) => r.remark)).toEqual([
        'r1',
        'found',
        'r3',
      ]);
    });

    it('picks up in the next window a row committed after the window closed', async () => {
      await insertScan(p, 10, 'OT10', 1, NOW - HOUR);
      // Committed while the run's settle bound excluded it: update_time younger than now − 60 s.
      await insertTracking(p, 1, 'OT1', NOW - 30);
      await ok();
      expect(await raw('uni_tracking_info', 'id')).toEqual([]);
      // A lower id committed after a higher one (auto-increment order ≠ commit order).
      await insertScan(p, 5, 'OT5', 1, NOW - HOUR);
      await ok(NOW + 900);
      expect((await raw('uni_tracking_info', 'id')).map((r) => r.id)).toEqual([1]);
      expect(new Set((await raw('uni_tracking_spath', 'id')).map((r) => r.id))).toEqual(new Set([5, 10]));
    });

    it('loses no row and moves no watermark when killed between extract and validate', async () => {
      await insertScan(p, 1, 'OT1', 1, NOW - HOUR);
      await ok();
      const before = await watermarks();
      await insertScan(p, 2, 'OT2', 1, NOW - HOUR);
      await insertTracking(p, 1, 'OT1', NOW + 600);
      const killed = await run(NOW + 900, { ORDER_TRACKING_FAULT: 'after:extract' });
      expect(killed.signal).toBe('SIGKILL');
      expect(await watermarks()).toEqual(before);
      await ok(NOW + 1800);
      const validated = await p.warehouse(
        `select r.id from settlement_public.uni_tracking_spath_raw r
           join order_tracking_meta.batches b on b.batch_id = r._batch_id and b.state = 'validated' order by r.id`,
      );
      expect(validated.map((r) => r.id)).toEqual([1, 1, 2]);
      // Rows of the batch that was never validated are gone from raw.
      expect((await raw('uni_tracking_spath', 'id')).map((r) => r.id)).toEqual([1, 1, 2]);
      expect((await raw('uni_tracking_info', 'id')).map((r) => r.id)).toEqual([1]);
    });

    it('fails validate and moves nothing when a row is lost on its way to raw', async () => {
      await insertScan(p, 1, 'OT1', 1, NOW - HOUR);
      await insertScan(p, 2, 'OT2', 1, NOW - HOUR);
      await ok();
      const before = await watermarks();
      await insertScan(p, 3, 'OT3', 1, NOW - HOUR);
      await insertTracking(p, 1, 'OT1', NOW + 600);
      const lost = await run(NOW + 900, { ORDER_TRACKING_FAULT: 'lose-row:extract' });
      expect(lost.code).toBe(4);
      expect(lost.stderr.trim().split('\n'), lost.stderr).toHaveLength(1);
      expect(lost.stderr).toMatch(
        /^order-tracking: .*validate: uni_tracking_info update_time in [^\]]*\][^:]*: source has 1 rows, raw has 0; uni_tracking_spath id in [^\]]*, 3\]: source has 3 rows, raw has 2; no watermark moved$/m,
      );
      expect(await watermarks()).toEqual(before);
      const failed = await p.warehouse(
        "select table_name from order_tracking_meta.batches where state = 'failed' order by table_name",
      );
      expect(failed.map((r) => r.table_name)).toEqual([
        'ecs_order_info',
        'uni_tracking_info',
        'uni_tracking_spath',
      ]);
      // Nothing of the failed batches stays in raw; the next run lands every row once.
      expect((await raw('uni_tracking_spath', 'id')).map((r) => r.id)).toEqual([1, 2]);
      expect(await raw('uni_tracking_info', 'id')).toEqual([]);
      await ok(NOW + 1800);
      const landed = await p.warehouse(
        `select r.id from settlement_public.uni_tracking_spath_raw r
           join order_tracking_meta.batches b on b.batch_id = r._batch_id and b.state = 'validated' order by r.id`,
      );
      expect(landed.map((r) => r.id)).toEqual([1, 1, 2, 2, 3]);
      expect((await raw('uni_tracking_info', 'id')).map((r) => r.id)).toEqual([1]);
    });

    it('loses nothing when killed in the middle of extract', async () => {
      await insertScan(p, 1, 'OT1', 1, NOW - HOUR);
      const killed = await run(NOW, { ORDER_TRACKING_FAULT: 'during:extract' });
      expect(killed.signal).toBe('SIGKILL');
      expect(await watermarks()).toEqual([]);
      // The scan table's index rolled back with its load (the other two may have committed theirs).
      expect(await batchIndexes()).not.toContain('uni_tracking_spath_raw');
      await ok(NOW + 900);
      expect((await raw('uni_tracking_spath', 'id')).map((r) => r.id)).toEqual([1]);
      expect(await batchIndexes()).toEqual(allBatchIndexes);
    });

    it('lands nothing when stopped mid-extract, and the next run lands every row once', async () => {
      const rows = Array.from({ length: 200 }, (_, i) => i + 1);
      await p.source(
        `insert into uni_tracking_spath (${spathColumns}) values ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        rows.flatMap((id) => [id, `OT${id}`, 1, NOW - HOUR, 'site', 'ARRIVE', null]),
      );
      // SIGTERM (a scheduler stopping the run) as the first of 20 batches is loaded, with no grace
      // to finish: the load rolls back, at a later batch or, when every row was already buffered,
      // before its commit.
      const stopped = await run(NOW, {
        ORDER_TRACKING_FAULT: 'term:during:extract',
        ORDER_TRACKING_BATCH_SIZE: '10',
        ORDER_TRACKING_STOP_GRACE_SECONDS: '0',
      });
      expect(stopped.signal).toBeNull();
      expect(stopped.code).not.toBe(0);
      expect(stopped.stderr.trim().split('\n'), stopped.stderr).toHaveLength(1);
      expect(stopped.stderr).toMatch(/^order-tracking: run 1 was interrupted \(SIGTERM\) during extract;/);
      expect(await raw('uni_tracking_spath', 'id')).toEqual([]);
      expect(await watermarks()).toEqual([]);
      const states = await p.warehouse('select distinct state from order_tracking_meta.batches');
      expect(states.map((r) => r.state)).not.toContain('validated');
      // The scan table's index rolled back with its load (the other two may have committed theirs).
      expect(await batchIndexes()).not.toContain('uni_tracking_spath_raw');
      // The lease is free and the window unread: the next run lands every row once.
      await ok(NOW + 900);
      expect((await raw('uni_tracking_spath', 'id')).map((r) => r.id)).toEqual(rows);
      expect(await batchIndexes()).toEqual(allBatchIndexes);
      const validated = await p.warehouse(
        `select count(*) as n from settlement_public.uni_tracking_spath_raw r
           join order_tracking_meta.batches b on b.batch_id = r._batch_id and b.state = 'validated'`,
      );
      expect(Number(validated[0]?.n)).toBe(200);
    });

    it('adds a new source column to raw and carries its values', async () => {
      await insertScan(p, 1, 'OT1', 1, NOW - HOUR);
      await ok();
      await p.source('alter table uni_tracking_spath add column courier_note varchar(40) null');
      await p.source(
        `insert into uni_tracking_spath (${spathColumns}, courier_note) values (?, ?, ?, ?, ?, ?, ?, ?)`,
        [2, 'OT2', 1, NOW - HOUR, 'site', 'ARRIVE', null, 'left at door 🚪'],
      );
      await ok(NOW + 900);
      const rows = await raw('uni_tracking_spath', 'id, courier_note');
      expect(rows.filter((r) => r.id === 2)).toEqual([{ id: 2, courier_note: 'left at door 🚪' }]);
      const changes = await p.warehouse(
        'select table_name, column_name, change from order_tracking_meta.schema_changes',
      );
      expect(changes).toEqual([
        { table_name: 'uni_tracking_spath', column_name: 'courier_note', change: 'added' },
      ]);
    });

    it('stops with the column named and nothing written when a required column is dropped', async () => {
      await insertScan(p, 1, 'OT1', 1, NOW - HOUR);
      await ok();
      const before = await raw('uni_tracking_spath', 'id, _batch_id');
      await insertScan(p, 2, 'OT2', 1, NOW - HOUR);
      await p.source('alter table uni_tracking_spath drop column traceSeq');
      const r = await run(NOW + 900);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/uni_tracking_spath has no required column traceSeq/);
      expect(await raw('uni_tracking_spath', 'id, _batch_id')).toEqual(before);
      expect((await raw('uni_tracking_info', 'id')).length).toBe(0);
    });
  });
}
