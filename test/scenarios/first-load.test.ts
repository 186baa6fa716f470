/**
 * The first cycle (SPEC §3 marts), whose batch is the whole history: on empty marts it looks no key
 * up, and on marts that hold rows already (a team moving over from its dbt deployment keeps the
 * marts it has) it matches the batch against them as any later cycle does, each key in its mart
 * once, in its newest version. One body for DuckDB + SQLite, PostgreSQL + MariaDB and Redshift.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28 20:26:40 UTC
const HOUR = 3_600;

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`the first cycle on ${pair.name}`, () => {
    let p: EnginePair;
    const run = async (args: string[]) => {
      const r = await cli(args, {
        ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
        ORDER_TRACKING_SOURCE: p.sourceUrl,
        ORDER_TRACKING_NOW: String(NOW),
      });
      expect(r.stderr, r.stderr).toBe('');
      expect(r.code).toBe(0);
    };
    const tracking = (id: number, order: string, status: string, updateTime: number) =>
      p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, `TN${id}`, status, 'DHL', 'Köln', updateTime],
      );
    const scan = (id: number, order: string, pathTime: number) =>
      p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, 1, pathTime, 'Lyon', 'ARRIVE', null],
      );
    const trackingMart = async () =>
      (
        await p.warehouse(
          'select order_id, id, status from settlement_ods.mart_uni_tracking_info order by order_id, id',
        )
      ).map((r) => [r.order_id, Number(r.id), r.status]);
    const scanMart = async () =>
      (
        await p.warehouse(
          'select order_id, pathtime, id from settlement_ods.mart_uni_tracking_spath order by order_id, id',
        )
      ).map((r) => [r.order_id, Number(r.pathtime), Number(r.id)]);

    beforeEach(async () => {
      p = await pair.create();
      await run(['init']);
    });
    afterEach(async () => p.close());

    it('lands every key of the history once in empty marts', async () => {
      await tracking(1, 'OT1', 'PICKED_UP', NOW - 3 * HOUR);
      await tracking(2, 'OT2', 'IN_TRANSIT', NOW - 2 * HOUR);
      await scan(10, 'OT1', NOW - 3 * HOUR);
      await scan(11, 'OT2', NOW - 2 * HOUR);
      await run(['run']);
      expect(await trackingMart()).toEqual([
        ['OT1', 1, 'PICKED_UP'],
        ['OT2', 2, 'IN_TRANSIT'],
      ]);
      expect(await scanMart()).toEqual([
        ['OT1', NOW - 3 * HOUR, 10],
        ['OT2', NOW - 2 * HOUR, 11],
      ]);
    });

    it('matches the first batch against rows the marts already hold: each key once, the newest version', async () => {
      // Rows kept from an earlier deployment, without a consumption mark: OT1's tracking row and
      // scan, and OT3's tracking row, which the source no longer sends.
      const loadedAt = "timestamp '2026-05-28 00:00:00'";
      await p.warehouse(
        `insert into settlement_ods.mart_uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time, _batch_id, _loaded_at)
         values (1, 'OT1', 'TN1', 'PICKED_UP', 'DHL', 'Köln', ${NOW - 3 * HOUR}, 0, ${loadedAt}),
                (3, 'OT3', 'TN3', 'DELIVERED', 'DHL', 'Köln', ${NOW - 4 * HOUR}, 0, ${loadedAt})`,
      );
      await p.warehouse(
        `insert into settlement_ods.mart_uni_tracking_spath (id, order_id, traceseq, pathtime, scan_site, scan_type, remark, _batch_id, _loaded_at)
         values (10, 'OT1', 1, ${NOW - 3 * HOUR}, 'Lyon', 'ARRIVE', null, 0, ${loadedAt})`,
      );
      // The source: OT1's tracking row updated since (a newer version), its scan as the mart has
      // it, and a new order.
      await tracking(4, 'OT1', 'IN_TRANSIT', NOW - HOUR);
      await tracking(2, 'OT2', 'IN_TRANSIT', NOW - 2 * HOUR);
      await scan(10, 'OT1', NOW - 3 * HOUR);
      await scan(11, 'OT2', NOW - 2 * HOUR);
      await run(['run']);
      expect(await trackingMart()).toEqual([
        ['OT1', 4, 'IN_TRANSIT'],
        ['OT2', 2, 'IN_TRANSIT'],
        ['OT3', 3, 'DELIVERED'],
      ]);
      expect(await scanMart()).toEqual([
        ['OT1', NOW - 3 * HOUR, 10],
        ['OT2', NOW - 2 * HOUR, 11],
      ]);
    });
  });
}
