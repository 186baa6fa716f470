/**
 * Rows held back as FUTURE_TIMESTAMP (SPEC §5): a row more than a day in the future waits in raw,
 * copied beside it, under an open exception and reaches its mart in the first run after it is due,
 * even when no later window re-reads it, one batch for DuckDB + SQLite and PostgreSQL + MariaDB. A
 * due row is read from its copy; one the copy lacks (a warehouse an older release kept, a schema
 * change) from raw, by the batches whose window holds it when the cursor is the id or the
 * timestamp, and all of raw when a batch was read by any other cursor column: both are run here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28
const HOUR = 3_600;
const DAY = 86_400;

/**
 * No overlap: a scan is read by one window only, as at production volume, where 10,000 ids are two
 * minutes of scans. Only the revival can bring a held scan back. `ID` is named as a user may write
 * it (column names compare without case); `traceSeq`, which the scans below number 1000 above their
 * ids (no window of it holds an id), stands for a cursor column the revival cannot map a held row
 * to a batch by.
 */
const cursors = [
  { name: 'the id cursor', cursor: { cursor: 'ID', overlap: 0 } },
  { name: 'a cursor on another column', cursor: { cursor: 'traceSeq', kind: 'id', overlap: 0 } },
] as const;

for (const pair of [...pairs, redshiftPair])
  for (const { name, cursor } of cursors) {
    describe.skipIf(await pair.skip())(`held-back rows on ${pair.name}, read by ${name}`, () => {
      let p: EnginePair;
      let dir: string;
      let config: string;

      beforeEach(async () => {
        p = await pair.create();
        dir = mkdtempSync(join(tmpdir(), 'ot-held-'));
        config = join(dir, 'order-tracking.json');
        writeFileSync(config, JSON.stringify({ tables: { uni_tracking_spath: cursor } }));
        const env = { ORDER_TRACKING_WAREHOUSE: p.warehouseUrl, ORDER_TRACKING_SOURCE: p.sourceUrl };
        expect((await cli(['init', '--config', config], env)).code).toBe(0);
      });
      afterEach(async () => {
        await p.close();
        rmSync(dir, { recursive: true, force: true });
      });

      const scan = (id: number, pathTime: number) =>
        p.source(
          'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
          [id, `OT${id}`, 1000 + id, pathTime, 'Lyon', 'ARRIVE', null],
        );
      const run = async (now: number) => {
        const r = await cli(['run', '--config', config], {
          ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
          ORDER_TRACKING_SOURCE: p.sourceUrl,
          ORDER_TRACKING_NOW: String(now),
        });
        expect(r.stderr).not.toMatch(/order-tracking:/);
        expect(r.code).toBe(0);
      };
      const inMart = async () =>
        (await p.warehouse('select id from settlement_ods.mart_uni_tracking_spath order by id')).map((r) =>
          Number(r.id),
        );
      const openHeld = async () =>
        (
          await p.warehouse(
            `select source_id from settlement_ods.order_tracking_exceptions
            where exception_type = 'FUTURE_TIMESTAMP' and resolved_at is null order by source_id`,
          )
        ).map((r) => Number(r.source_id));

      // Each mart_uts row's id and the value of one of its columns.
      const inMartWith = async (column: string) =>
        (
          await p.warehouse(`select id, ${column} from settlement_ods.mart_uni_tracking_spath order by id`)
        ).map((r) => [Number(r.id), r[column]]);
      const copied = async () =>
        (await p.warehouse('select id from settlement_public.uni_tracking_spath_held order by id')).map((r) =>
          Number(r.id),
        );

      it('brings each held scan into mart_uts once due, from its copy beside raw', async () => {
        await scan(1, NOW - HOUR);
        await scan(2, NOW + 3 * DAY);
        await run(NOW);
        expect(await inMart()).toEqual([1]);
        expect(await openHeld()).toEqual([2]);
        expect(await copied()).toEqual([2]);

        await scan(3, NOW + 5 * DAY);
        await scan(4, NOW);
        await run(NOW + HOUR);
        expect(await inMart()).toEqual([1, 4]);
        expect(await openHeld()).toEqual([2, 3]);
        // The copy outlives the cycle that made it: a later cycle adds to it, never starts it again.
        expect(await copied()).toEqual([2, 3]);

        // Scan 2 is due (within a day of the clock), scan 3 not yet; the windows read only new ids.
        await scan(5, NOW + 2 * DAY);
        await run(NOW + 2 * DAY + HOUR);
        expect(await inMart()).toEqual([1, 2, 4, 5]);
        expect(await openHeld()).toEqual([3]);
        expect(await copied()).toEqual([3]);

        await run(NOW + 4 * DAY + HOUR);
        expect(await inMart()).toEqual([1, 2, 3, 4, 5]);
        expect(await openHeld()).toEqual([]);
        expect(await copied()).toEqual([]);
        const raw = await p.warehouse('select id from settlement_public.uni_tracking_spath_raw order by id');
        expect(raw.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5]);
      });

      it('keeps one copy of a held scan that later windows read again, its newest landing', async () => {
        writeFileSync(config, JSON.stringify({ tables: { uni_tracking_spath: { ...cursor, overlap: 10 } } }));
        await scan(1, NOW - HOUR);
        await scan(2, NOW + 3 * DAY);
        await run(NOW);
        await p.source(`update uni_tracking_spath set remark = 'left at the depot' where id = 2`);
        await scan(3, NOW);
        await run(NOW + HOUR);
        await run(NOW + 2 * HOUR);
        expect(await copied()).toEqual([2]);

        await run(NOW + 2 * DAY + HOUR);
        expect(await inMartWith('remark')).toEqual([
          [1, null],
          [2, 'left at the depot'],
          [3, null],
        ]);
        expect(await copied()).toEqual([]);
      });

      it('brings a held scan in from raw when its copy is gone, as in a warehouse an older release kept', async () => {
        await scan(1, NOW - HOUR);
        await scan(2, NOW + 3 * DAY);
        await run(NOW);
        await p.warehouse('drop table settlement_public.uni_tracking_spath_held');

        await scan(3, NOW + 5 * DAY);
        await run(NOW + HOUR);
        expect(await copied()).toEqual([3]);

        await run(NOW + 2 * DAY + HOUR);
        expect(await inMart()).toEqual([1, 2]);
        expect(await openHeld()).toEqual([3]);
        await run(NOW + 4 * DAY + HOUR);
        expect(await inMart()).toEqual([1, 2, 3]);
        expect(await openHeld()).toEqual([]);
      });

      it('brings a held scan in after a new source column reshaped the tables that hold it', async () => {
        await scan(1, NOW - HOUR);
        await scan(2, NOW + 3 * DAY);
        await run(NOW);
        await p.source('alter table uni_tracking_spath add column courier varchar(20)');
        await p.source(
          'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark, courier) values (?, ?, ?, ?, ?, ?, ?, ?)',
          [3, 'OT3', 1003, NOW + 5 * DAY, 'Lyon', 'ARRIVE', null, 'DHL'],
        );
        await run(NOW + HOUR);
        expect(await copied()).toEqual([3]);

        await run(NOW + 2 * DAY + HOUR);
        await run(NOW + 4 * DAY + HOUR);
        expect(await inMartWith('courier')).toEqual([
          [1, null],
          [2, null],
          [3, 'DHL'],
        ]);
        expect(await openHeld()).toEqual([]);
      });
    });
  }
