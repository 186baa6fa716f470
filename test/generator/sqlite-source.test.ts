import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGenerator,
  type GeneratorSummary,
  openSqliteWriter,
  summaryLines,
  SOURCE_TABLES,
  SOURCE_TABLE_NAMES,
} from '../../src/generator/index.js';
import { DAY, HOUR, JAN_2025 } from './recording-writer.js';

const MONTH = 30.44 * DAY;

/**
 * A realistic source: ~12,500 orders and ~0.5 M scan events over 14 months at default rates, long
 * enough for 8-month reactivations and complete 7–9 month lifecycles. (The 1 M-scan timing is
 * `npx tsx test/generator/measure-writes.ts`.)
 */
describe('generator → SQLite at realistic scale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ot-generator-'));
  const file = join(dir, 'source.sqlite');
  let db: Database.Database;
  let summary: GeneratorSummary;

  const one = <T>(sql: string): T => db.prepare(sql).get() as T;
  const count = (sql: string): number => one<{ n: number }>(sql).n;

  beforeAll(async () => {
    const gen = createGenerator({ seed: 2024, start: JAN_2025, days: 420, ordersPerDay: 30 });
    const writer = openSqliteWriter(file);
    await writer.createTables();
    const started = performance.now();
    await gen.advanceTo(writer, gen.end);
    const seconds = (performance.now() - started) / 1000;
    await writer.close();
    summary = gen.summary;
    const s = summary.inserted;
    const writes = s.ecs_order_info + s.uni_tracking_info + s.uni_tracking_spath + summary.trackingUpdates;
    console.log(
      `generator → SQLite: ${s.uni_tracking_spath.toLocaleString()} scan events, ` +
        `${writes.toLocaleString()} writes in ${seconds.toFixed(2)} s = ` +
        `${Math.round(writes / seconds).toLocaleString()} writes/s ` +
        `(${Math.round(s.uni_tracking_spath / seconds).toLocaleString()} scans/s)`,
    );
    console.log(summaryLines(summary).join('\n'));
    db = new Database(file, { readonly: true });
  }, 60_000);

  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds what the summary says, with consecutive ids', () => {
    expect(summary.inserted.uni_tracking_spath).toBeGreaterThan(450_000);
    for (const table of SOURCE_TABLE_NAMES) {
      const { n, lo, hi } = one<{ n: number; lo: number; hi: number }>(
        `select count(*) n, min(id) lo, max(id) hi from ${table}`,
      );
      expect(n).toBe(summary.inserted[table]);
      expect([lo, hi]).toEqual([1, n]);
    }
  });

  it('declares the source column types', () => {
    for (const table of SOURCE_TABLE_NAMES) {
      const columns = db.prepare(`pragma table_info(${table})`).all() as {
        name: string;
        type: string;
        notnull: number;
      }[];
      expect(columns.map((c) => c.name)).toEqual(SOURCE_TABLES[table].columns.map((c) => c.name));
      for (const [i, c] of SOURCE_TABLES[table].columns.entries()) {
        if (c.name !== 'id') expect(columns[i]!.type).toBe(c.type);
      }
    }
  });

  it('has ~0.2% NULL order ids in every table', () => {
    for (const table of SOURCE_TABLE_NAMES) {
      const nulls = count(`select count(*) n from ${table} where order_id is null`);
      expect(nulls).toBe(summary.nullOrderIds[table]);
      expect(nulls / summary.inserted[table]).toBeGreaterThan(0.001);
      expect(nulls / summary.inserted[table]).toBeLessThan(0.004);
    }
  });

  it('writes each ecs row hours before the order’s first scan', () => {
    const rows = db
      .prepare(
        `select e.add_time, min(s.pathTime) first_scan from ecs_order_info e
         join uni_tracking_spath s on s.order_id = e.order_id group by e.order_id`,
      )
      .raw()
      .all() as [number, number][];
    expect(rows.length).toBeGreaterThan(12_000);
    expect(rows.every(([added, first]) => first - added >= HOUR)).toBe(true);
    const delays = rows.map(([added, first]) => first - added).sort((a, b) => a - b);
    expect(delays[Math.floor(delays.length / 2)]).toBeLessThan(8 * HOUR);
  });

  it('keeps one tracking row per order except the deliberate duplicates, some of them tied', () => {
    const groups = db
      .prepare(
        `select count(*) n, count(distinct update_time) times from uni_tracking_info
         where order_id is not null group by order_id having count(*) > 1`,
      )
      .all() as { n: number; times: number }[];
    expect(groups.every((g) => g.n === 2)).toBe(true);
    expect(groups.length).toBeLessThanOrEqual(summary.orders.duplicateTracking);
    expect(groups.length).toBeGreaterThan(summary.orders.duplicateTracking * 0.9);
    const tied = groups.filter((g) => g.times === 1).length;
    expect(tied).toBeGreaterThan(10);
    expect(tied).toBeLessThanOrEqual(summary.orders.tiedTracking);
  });

  it('inserts late scans after later scans of the same order', () => {
    // A scan whose id is higher than the id of a scan with a higher traceSeq of the same order.
    const outOfOrder = count(
      `select count(*) n from (
         select id, min(id) over (partition by order_id order by traceSeq
           rows between 1 following and unbounded following) later_min_id
         from uni_tracking_spath where order_id is not null)
       where later_min_id < id`,
    );
    expect(summary.lateScans / summary.inserted.uni_tracking_spath).toBeGreaterThan(0.015);
    expect(outOfOrder).toBeGreaterThan(summary.lateScans * 0.5);
    expect(outOfOrder).toBeLessThanOrEqual(summary.lateScans);
  });

  it('has scans and tracking rows stamped days in the future', () => {
    expect(summary.futureTimestamps.uni_tracking_spath).toBeGreaterThan(20);
    expect(summary.futureTimestamps.uni_tracking_info).toBeGreaterThan(5);
    // Seen from the data: a scan 2–4 days later than the scan that follows it.
    const ahead = count(
      `select count(*) n from (
         select pathTime - lead(pathTime) over (partition by order_id order by traceSeq) ahead
         from uni_tracking_spath where order_id is not null)
       where ahead > ${DAY}`,
    );
    expect(ahead).toBeGreaterThan(0);
    expect(ahead).toBeLessThanOrEqual(summary.futureTimestamps.uni_tracking_spath);
  });

  it('has reactivated orders, silent for at least 8 months, and long 7–9 month lifecycles', () => {
    const spans = db
      .prepare(
        `select order_id, max(pathTime) - min(pathTime) span, max(gap) gap from (
           select order_id, pathTime,
             pathTime - lag(pathTime) over (partition by order_id order by pathTime) gap
           from uni_tracking_spath where order_id is not null)
         group by order_id`,
      )
      .all() as { order_id: string; span: number; gap: number | null }[];
    const reactivated = spans.filter((s) => (s.gap ?? 0) > 200 * DAY);
    expect(reactivated.length).toBeGreaterThan(10);
    expect(reactivated.length).toBeLessThanOrEqual(summary.orders.reactivated);
    expect(reactivated.every((s) => s.gap! >= 8 * MONTH)).toBe(true);

    const long = spans.filter((s) => s.span >= 7 * MONTH - 5 * DAY && (s.gap ?? 0) < 200 * DAY);
    expect(long.length).toBeGreaterThan(100);
    expect(long.every((s) => s.span <= 9 * MONTH + 10 * DAY)).toBe(true);
    // Most orders finish within 3–15 days of their first scan.
    const quick = spans.filter((s) => s.span <= 15 * DAY).length;
    expect(quick / spans.length).toBeGreaterThan(0.9);
  });

  it('stores odd Unicode intact', () => {
    expect(count(`select count(*) n from uni_tracking_info where location like '%📦%'`)).toBeGreaterThan(0);
    expect(
      count(`select count(*) n from uni_tracking_spath where scan_site like '%東京都%'`),
    ).toBeGreaterThan(0);
    expect(
      count(`select count(*) n from ecs_order_info where customer_name = 'Zoe\u0308 Mu\u0308ller'`),
    ).toBeGreaterThan(0);
  });

  it('refuses to write into a source that already holds rows', async () => {
    const writer = openSqliteWriter(file);
    await expect(writer.createTables()).rejects.toThrow(/already holds rows/);
    await writer.close();
  });
});
