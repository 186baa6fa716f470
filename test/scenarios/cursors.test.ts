/**
 * What the windows read (SPEC §3 calc_window), where they used to lose rows without a word, one
 * body for DuckDB + SQLite and PostgreSQL + MariaDB: ids past 2^53, a NULL cursor value, tracking
 * rows stamped in the future, a source clock behind ours, and a watermark left ahead of the clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/pipeline/status/types.js';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28 20:26:40 UTC
const HOUR = 3_600;
const DAY = 86_400;
/** 2^53 + 1: the first integer a JS number cannot hold. */
const PAST_2_53 = '9007199254740993';
/** A Snowflake-style id. */
const SNOWFLAKE = '1234567890123456789';

const trackingColumns = 'id, order_id, tracking_no, status, carrier, location, update_time';

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`cursors on ${pair.name}`, () => {
    let p: EnginePair;
    const env = (now: number, extra: Record<string, string> = {}) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(now),
      ...extra,
    });
    const ok = async (args: string[], now: number) => {
      const r = await cli(args, env(now));
      expect(r.stderr, r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    const run = (now: number) => ok(['run'], now);
    const tracking = (id: number | string, order: string | null, updateTime: number | null) =>
      p.source(`insert into uni_tracking_info (${trackingColumns}) values (?, ?, ?, ?, ?, ?, ?)`, [
        id,
        order,
        `TN${id}`,
        'IN_TRANSIT',
        'DHL',
        'Köln',
        updateTime,
      ]);
    const scan = (id: number | string, order: string, pathTime: number) =>
      p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, 1, pathTime, 'Lyon', 'ARRIVE', null],
      );
    /** Distinct ids as exact text (a JS number would round them); raw holds re-read rows again. */
    const ids = async (table: string) =>
      (await p.warehouse(`select distinct id, cast(id as varchar) as v from ${table} order by id`)).map((r) =>
        String(r.v),
      );
    const exceptions = async (type: string) =>
      p.warehouse(
        `select order_id, cast(source_id as varchar) as source_id, event_time, resolved_at is null as open
           from settlement_ods.order_tracking_exceptions where exception_type = $1 order by exception_id`,
        [type],
      );

    beforeEach(async () => {
      p = await pair.create();
      await ok(['init'], NOW);
    });
    afterEach(async () => p.close());

    it('reads ids past 2^53 exactly, and status carries them exactly', async () => {
      // Big ids are bound as text: the drivers would round a JS number.
      await scan(PAST_2_53, 'OT1', NOW - HOUR);
      await run(NOW);
      await scan('9007199254740994', 'OT2', NOW - HOUR);
      await scan(SNOWFLAKE, 'OT3', NOW - HOUR);
      await run(NOW + 900);
      expect(await ids('settlement_ods.mart_uni_tracking_spath')).toEqual([
        PAST_2_53,
        '9007199254740994',
        SNOWFLAKE,
      ]);
      const marks = await p.warehouse(
        "select cast(value as varchar) as v from order_tracking_meta.watermarks where table_name = 'uni_tracking_spath'",
      );
      expect(marks).toEqual([{ v: SNOWFLAKE }]);
      const status = await ok(['status', '--json'], NOW + 900);
      // Past 2^53 the JSON carries the exact decimal text, as the engines do (src/engines/types.ts).
      expect(status.stdout).toContain(`"value":"${SNOWFLAKE}"`);
      const report = JSON.parse(status.stdout) as StatusReport;
      expect(report.watermarks[2]).toMatchObject({ sourceMax: SNOWFLAKE, idsBehind: 0 });
      expect((await ok(['status'], NOW + 900)).stdout).toMatch(
        /^\s+uni_tracking_spath\s+id\s+id 1,234,567,890,123,456,789\s+0 ids behind/m,
      );
    });

    it('lands a tracking row whose update_time is NULL, once, under an open NULL_KEY', async () => {
      // A source without NOT NULL on update_time.
      if (p.sourceDialect === 'mysql')
        await p.source('alter table uni_tracking_info modify update_time int null');
      else {
        await p.source('drop table uni_tracking_info');
        await p.source(
          'create table uni_tracking_info (id INTEGER PRIMARY KEY, order_id VARCHAR(64) NULL, tracking_no VARCHAR(64), status VARCHAR(32), carrier VARCHAR(32), location VARCHAR(255), update_time INT NULL)',
        );
      }
      await tracking(1, 'OT1', NOW - HOUR);
      await tracking(2, 'OT2', null);
      await run(NOW);
      await tracking(3, 'OT3', null);
      await tracking(4, 'OT4', NOW - 600);
      await run(NOW + 900);
      await run(NOW + 1800);
      expect(await ids('settlement_public.uni_tracking_info_raw')).toEqual(['1', '2', '3', '4']);
      expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual(['1', '4']);
      expect(await exceptions('NULL_KEY')).toEqual([
        { order_id: 'OT2', source_id: '2', event_time: null, open: true },
        { order_id: 'OT3', source_id: '3', event_time: null, open: true },
      ]);
    });

    it('opens one FUTURE_TIMESTAMP per tracking row stamped more than a day ahead, and folds it in when due', async () => {
      await tracking(1, 'OT1', NOW - HOUR);
      await tracking(2, 'OT2', NOW + 3 * DAY);
      const first = await run(NOW);
      expect(first.stdout).toMatch(/uni_tracking_info 1 \(\+1 FUTURE_TIMESTAMP held at the source\)/);
      await run(NOW + 900);
      expect(await exceptions('FUTURE_TIMESTAMP')).toEqual([
        { order_id: 'OT2', source_id: '2', event_time: NOW + 3 * DAY, open: true },
      ]);
      expect(await ids('settlement_public.uni_tracking_info_raw')).toEqual(['1']);
      // Due: within a day of the clock, and below the window's bound.
      await run(NOW + 3 * DAY + HOUR);
      expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual(['1', '2']);
      expect(await exceptions('FUTURE_TIMESTAMP')).toEqual([
        { order_id: 'OT2', source_id: '2', event_time: NOW + 3 * DAY, open: false },
      ]);
    });

    it('loses nothing from a source whose rows are stamped two hours behind our clock', async () => {
      const lag = 2 * HOUR;
      let id = 0;
      for (let cycle = 0; cycle < 6; cycle++) {
        const now = NOW + cycle * 900;
        // Rows written during the cycle before, stamped by the lagging clock.
        for (let i = 0; i < 3; i++) {
          id++;
          await tracking(id, `OT${id}`, now - lag - 600 + i * 200);
        }
        await run(now);
      }
      expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual(
        Array.from({ length: id }, (_, i) => String(i + 1)),
      );
    });

    it('stops loudly on a watermark ahead of the clock, and reset-watermark repairs it', async () => {
      // A run whose clock was a month ahead read a row stamped ten days ahead of the real clock.
      await tracking(1, 'OT1', NOW - HOUR);
      await tracking(2, 'OT2', NOW + 10 * DAY);
      await run(NOW + 30 * DAY);
      await tracking(3, 'OT3', NOW + 600);

      const stopped = await cli(['run'], env(NOW + 900));
      expect(stopped.code).toBe(1);
      const lines = stopped.stderr.trim().split('\n');
      expect(lines, stopped.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^order-tracking: calc_window: the watermark of uni_tracking_info \(update_time 2026-06-07 20:26:40\) is ahead of the clock \(2026-05-28 20:41:40 UTC\).*run `order-tracking reset-watermark uni_tracking_info --to '2026-05-27 20:41:40'`/,
      );

      const status = await ok(['status'], NOW + 900);
      expect(status.stdout).toMatch(
        /^\s+uni_tracking_info\s+update_time\s+2026-06-07 20:26:40\s+ahead of the clock/m,
      );
      expect(status.stdout).toMatch(/^\s+warning: the watermark of uni_tracking_info/m);

      const reset = await ok(
        ['reset-watermark', 'uni_tracking_info', '--to', '2026-05-27 20:41:40'],
        NOW + 900,
      );
      expect(reset.stdout).toBe(
        'set the watermark of uni_tracking_info to update_time 2026-05-27 20:41:40 (was update_time 2026-06-07 20:26:40): the next run reads update_time from 2026-05-27 20:11:40 on\n',
      );
      await run(NOW + 1800);
      expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual(['1', '2', '3']);
    });

    it('status reads a watermark no calendar holds without failing', async () => {
      await tracking(1, 'OT1', NOW - HOUR);
      await run(NOW);
      await p.warehouse(
        "update order_tracking_meta.watermarks set value = 99999999999999 where table_name = 'uni_tracking_info'",
      );
      const r = await ok(['status'], NOW);
      expect(r.stdout).toMatch(
        /^\s+uni_tracking_info\s+update_time\s+epoch 99999999999999\s+ahead of the clock/m,
      );
    });

    it('refuses a bad reset-watermark in one line, changing nothing', async () => {
      await tracking(1, 'OT1', NOW - HOUR);
      await run(NOW);
      const before = await p.warehouse(
        'select table_name, value from order_tracking_meta.watermarks order by 1',
      );
      for (const [args, message] of [
        [['reset-watermark', 'orders'], /unknown table "orders"/],
        [['reset-watermark', 'uni_tracking_info', '--to', 'yesterday'], /--to "yesterday" is not a time/],
        [
          ['reset-watermark', 'uni_tracking_info', '--to', '2026-06-01'],
          /--to 2026-06-01 00:00:00 is ahead of the clock/,
        ],
        [['reset-watermark', 'ecs_order_info', '--to', '12.5'], /--to "12\.5" is not an id/],
      ] as const) {
        const r = await cli([...args], env(NOW));
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^order-tracking: .*${message.source}`));
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(
        await p.warehouse('select table_name, value from order_tracking_meta.watermarks order by 1'),
      ).toEqual(before);
      const removed = await ok(['reset-watermark', 'uni_tracking_info'], NOW);
      expect(removed.stdout).toMatch(
        /^removed the watermark of uni_tracking_info .*reads the table from the start/,
      );
      await run(NOW + 900);
      expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual(['1']);
    });
  });
}
