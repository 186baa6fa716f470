/**
 * The archive's safety net (SPEC §4): a frozen period cannot be written, so the rows that age into
 * it stay in their mart under open ARCHIVE_ROUTING_GAP / ARCHIVE_ROUTING_GAP_UTS exceptions and are
 * never trimmed; after `exceptions resolve` and unfreezing, the next run archives them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';
import { openFeed } from '../support/feed.js';
import { checkInvariants } from '../support/invariants.js';

const utc = (year: number, month: number, day: number): number => Date.UTC(year, month, day) / 1000;
const START = utc(2025, 0, 1);
const FIRST = utc(2025, 8, 1); // 1 Sep 2025: the cutoff is in March 2025, so 2025_h1 fills up
const NEXT = utc(2025, 9, 1);

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`archive safety net on ${pair.name}`, () => {
    let p: EnginePair;
    const env = (extra: Record<string, string> = {}) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ...extra,
    });
    const count = async (sql: string): Promise<number> => Number((await p.warehouse(sql))[0]?.n);
    const openGaps = (type: string) =>
      count(
        `select count(*) as n from settlement_ods.order_tracking_exceptions where exception_type = '${type}' and resolved_at is null`,
      );
    const histTables = async () =>
      (
        await p.warehouse(
          `select table_name from information_schema.tables where table_schema = 'settlement_ods' and table_name like 'hist_%' order by 1`,
        )
      ).map((r) => r.table_name);

    beforeEach(async () => {
      p = await pair.create();
      expect((await cli(['init'], env())).code).toBe(0);
    });
    afterEach(async () => p.close());

    it('keeps rows of a frozen period in the mart under open exceptions, and archives them once released', async () => {
      const feed = await openFeed(p, {
        seed: 7,
        start: START,
        days: 240,
        ordersPerDay: 8,
        scansPerUpdate: 1.5,
      });
      await feed.advanceTo(FIRST);
      const frozen = await cli(
        ['run'],
        env({ ORDER_TRACKING_NOW: String(FIRST + 120), ORDER_TRACKING_FROZEN_PERIODS: '2025_h1' }),
      );
      expect(frozen.stderr).not.toMatch(/order-tracking:/);
      expect(frozen.code).toBe(0);

      // Nothing was written to the frozen period: no 2025_h1 table, every aged row still in its mart.
      expect((await histTables()).filter((t) => String(t).endsWith('2025_h1'))).toEqual([]);
      const gaps = await openGaps('ARCHIVE_ROUTING_GAP');
      const scanGaps = await openGaps('ARCHIVE_ROUTING_GAP_UTS');
      expect(gaps).toBeGreaterThan(0);
      expect(scanGaps).toBeGreaterThan(0);
      const [maxPath] = await p.warehouse(
        'select max(pathtime) as m from settlement_ods.mart_uni_tracking_spath',
      );
      const cutoff = Math.min(Number(maxPath?.m), FIRST + 120) - 15_552_000;
      const agedInMart = await count(
        `select count(*) as n from settlement_ods.mart_uni_tracking_spath where pathtime < ${cutoff}`,
      );
      expect(agedInMart).toBe(scanGaps);

      // A later run, still frozen, opens no duplicate exception and trims none of the held rows.
      await feed.advanceTo(NEXT);
      const again = await cli(
        ['run'],
        env({ ORDER_TRACKING_NOW: String(NEXT + 120), ORDER_TRACKING_FROZEN_PERIODS: '2025_h1' }),
      );
      expect(again.code).toBe(0);
      expect(await openGaps('ARCHIVE_ROUTING_GAP_UTS')).toBeGreaterThanOrEqual(scanGaps);
      expect(
        await count(
          `select count(*) as n from (select order_id, traceseq, pathtime from settlement_ods.order_tracking_exceptions
             where exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and resolved_at is null
             group by order_id, traceseq, pathtime having count(*) > 1) d`,
        ),
      ).toBe(0);

      // Resolving the exceptions and unfreezing the period lets the next run archive the rows.
      for (const type of ['ARCHIVE_ROUTING_GAP', 'ARCHIVE_ROUTING_GAP_UTS']) {
        const resolved = await cli(
          ['exceptions', 'resolve', '--type', type, '--note', 'period unfrozen'],
          env(),
        );
        expect(resolved.code).toBe(0);
      }
      const released = await cli(['run'], env({ ORDER_TRACKING_NOW: String(NEXT + 240) }));
      expect(released.code).toBe(0);
      expect(await openGaps('ARCHIVE_ROUTING_GAP')).toBe(0);
      expect(await openGaps('ARCHIVE_ROUTING_GAP_UTS')).toBe(0);
      expect(await histTables()).toEqual(
        expect.arrayContaining(['hist_uni_tracking_info_2025_h1', 'hist_uni_tracking_spath_2025_h1']),
      );
      expect(
        await count(
          `select count(*) as n from settlement_ods.mart_uni_tracking_spath where pathtime < ${cutoff}`,
        ),
      ).toBe(0);
      expect(await checkInvariants(p, NEXT + 240)).toEqual([]);
      await feed.close();
    });

    it('resolves a held row’s gap when a newer version replaces it, one already past the cutoff', async () => {
      const now = utc(2026, 4, 28);
      const held = utc(2025, 2, 1); // 2025_h1, frozen
      const newer = utc(2025, 7, 1); // 2025_h2, past the cutoff (2025-11-29) as it arrives
      // An id cursor re-reads the row after its update_time moved back behind the watermark: the
      // one way a version already past the cutoff reaches the stage after its old version landed.
      const dir = mkdtempSync(join(tmpdir(), 'ot-gap-'));
      const config = join(dir, 'order-tracking.json');
      writeFileSync(config, JSON.stringify({ tables: { uni_tracking_info: { cursor: 'id' } } }));
      const run = (clock: number) =>
        cli(
          ['run', '--config', config],
          env({ ORDER_TRACKING_NOW: String(clock), ORDER_TRACKING_FROZEN_PERIODS: '2025_h1' }),
        );
      const tracking = (id: number, order: string, updateTime: number) =>
        p.source(
          'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
          [id, order, `TN${id}`, 'IN_TRANSIT', 'DHL', 'Köln', updateTime],
        );
      const gapsOf = async (order: string) =>
        (
          await p.warehouse(
            `select event_time, resolved_at is not null as resolved from settlement_ods.order_tracking_exceptions
              where exception_type = 'ARCHIVE_ROUTING_GAP' and order_id = '${order}'`,
          )
        ).map((r) => [Number(r.event_time), Boolean(r.resolved)]);
      const homes = async (order: string) => {
        const where = `where order_id = '${order}'`;
        const mart = await p.warehouse(
          `select update_time from settlement_ods.mart_uni_tracking_info ${where}`,
        );
        const hist = (await histTables()).includes('hist_uni_tracking_info_2025_h2')
          ? await p.warehouse(
              `select update_time from settlement_ods.hist_uni_tracking_info_2025_h2 ${where}`,
            )
          : [];
        return { mart: mart.map((r) => Number(r.update_time)), h2: hist.map((r) => Number(r.update_time)) };
      };
      try {
        await tracking(1, 'OT1', held);
        await tracking(2, 'OT2', now - 3600); // the newest row: the cutoff is 180 days before it
        const first = await run(now);
        expect(first.stderr).not.toMatch(/order-tracking:/);
        expect(first.code).toBe(0);
        expect(await homes('OT1')).toEqual({ mart: [held], h2: [] });
        expect(await gapsOf('OT1')).toEqual([[held, false]]);

        await p.source('update uni_tracking_info set update_time = ? where id = 1', [newer]);
        const second = await run(now + 900);
        expect(second.stderr).not.toMatch(/order-tracking:/);
        expect(second.code).toBe(0);
        // The new version went to its own period's archive; the gap that held the old one is closed.
        expect(await homes('OT1')).toEqual({ mart: [], h2: [newer] });
        expect(await gapsOf('OT1')).toEqual([[held, true]]);
        expect((await histTables()).filter((t) => String(t).endsWith('2025_h1'))).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
