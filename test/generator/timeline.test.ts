import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGenerator,
  type GeneratorOptions,
  type ScanRow,
  SOURCE_TABLES,
  type SourceTableName,
} from '../../src/generator/index.js';
import { CountingWriter, DAY, HOUR, JAN_2025, RecordingWriter } from './recording-writer.js';

const small: GeneratorOptions = { seed: 7, start: JAN_2025, days: 40, ordersPerDay: 60 };

/** Runs a generator to `days` after its start with one chunk per action (exact `at` per row). */
async function record(options: GeneratorOptions, until = options.days): Promise<RecordingWriter> {
  const writer = new RecordingWriter();
  const gen = createGenerator({ ...options, chunkRows: 1 });
  await gen.advanceTo(writer, options.start + until * DAY);
  return writer;
}

function digest(w: RecordingWriter): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(w.orders.map((x) => x.row)));
  hash.update(JSON.stringify(w.scans.map((x) => x.row)));
  hash.update(JSON.stringify([...w.tracking.values()].sort((a, b) => a.id - b.id)));
  return hash.digest('hex');
}

describe('generator timeline', () => {
  let w: RecordingWriter;
  beforeAll(async () => {
    w = await record(small);
  });

  it('is deterministic: same seed, same rows, whatever the chunk size and step size', async () => {
    const tiny: GeneratorOptions = { ...small, days: 12, ordersPerDay: 30 };
    const a = await record(tiny);
    const b = await record(tiny);
    expect(digest(b)).toBe(digest(a));

    // Big chunks, advanced cycle by cycle as the demo does.
    const stepped = new RecordingWriter();
    const gen = createGenerator({ ...tiny, chunkRows: 5_000 });
    for (let t = tiny.start; t <= tiny.start + tiny.days * DAY; t += 900) {
      await gen.advanceTo(stepped, t);
    }
    expect(digest(stepped)).toBe(digest(a));

    const other = await record({ ...tiny, seed: 8 });
    expect(digest(other)).not.toBe(digest(a));
  });

  it('assigns ids in insertion order and writes in `at` order', async () => {
    const inserted = (rows: readonly { row: { id: number } }[]) => {
      const seen = new Set<number>();
      const ids: number[] = [];
      for (const { row } of rows) {
        if (seen.has(row.id)) continue; // an in-place update of a tracking row
        seen.add(row.id);
        ids.push(row.id);
      }
      return ids;
    };
    for (const ids of [inserted(w.orders), inserted(w.trackingWrites), inserted(w.scans)]) {
      expect(ids.length).toBeGreaterThan(1000);
      expect(ids).toEqual(ids.map((_, i) => i + 1));
    }
    for (let i = 1; i < w.chunks.length; i++) {
      const prev = w.chunks[i - 1]!;
      const cur = w.chunks[i]!;
      expect(cur.fromAt).toBe(cur.toAt); // chunkRows 1: one action per chunk
      expect(cur.fromAt).toBeGreaterThanOrEqual(prev.toAt);
    }
  });

  it('writes an order, then its first tracking row and scan a few hours later', async () => {
    const created = new Map(w.orders.map(({ at, row }) => [row.order_id, at]));
    const firstTracking = new Map<string, number>();
    for (const { at, row } of w.trackingWrites) {
      if (row.order_id !== null && !firstTracking.has(row.order_id)) {
        firstTracking.set(row.order_id, at);
      }
    }
    let checked = 0;
    for (const [orderId, at] of firstTracking) {
      const addTime = created.get(orderId);
      if (addTime === undefined) continue; // that order's ecs row has a NULL order_id
      expect(at - addTime).toBeGreaterThanOrEqual(1 * HOUR);
      expect(at - addTime).toBeLessThanOrEqual(8 * HOUR);
      checked++;
    }
    expect(checked).toBeGreaterThan(2000);
    for (const { at, row } of w.orders) expect(row.add_time).toBe(at);
  });

  it('uploads ~2% of scans 1–6 hours late, so id order differs from pathTime order', async () => {
    const late = w.scans.filter(({ at, row }) => row.pathTime < at);
    expect(late.length / w.scans.length).toBeGreaterThan(0.015);
    expect(late.length / w.scans.length).toBeLessThan(0.025);
    for (const { at, row } of late) {
      expect(at - row.pathTime).toBeGreaterThanOrEqual(1 * HOUR);
      expect(at - row.pathTime).toBeLessThanOrEqual(6 * HOUR);
    }
    // Every late scan has a smaller pathTime than a scan inserted before it (lower id).
    let maxPathTime = -Infinity;
    const byId = [...w.scans].sort((a, b) => a.row.id - b.row.id);
    const lateIds = new Set(late.map((x) => x.row.id));
    let outOfOrder = 0;
    for (const { row } of byId) {
      if (row.pathTime < maxPathTime && lateIds.has(row.id)) outOfOrder++;
      maxPathTime = Math.max(maxPathTime, row.pathTime);
    }
    expect(outOfOrder).toBe(late.length);
  });

  it('stamps a handful of rows more than a day in the future, and the rest at their write time', async () => {
    const options = { ...small, days: 90, ordersPerDay: 40 };
    const writer = new RecordingWriter();
    const gen = createGenerator({ ...options, chunkRows: 1 });
    await gen.advanceTo(writer, options.start + options.days * DAY);
    const futureScans = writer.scans.filter(({ at, row }) => row.pathTime > at + DAY);
    const futureTracking = writer.trackingWrites.filter(({ at, row }) => row.update_time > at + DAY);
    expect(futureScans.length).toBe(gen.summary.futureTimestamps.uni_tracking_spath);
    expect(futureTracking.length).toBe(gen.summary.futureTimestamps.uni_tracking_info);
    expect(futureScans.length).toBeGreaterThan(0);
    expect(futureScans.length / writer.scans.length).toBeLessThan(0.0005);
    const onTime = (x: { at: number; row: ScanRow }) => x.row.pathTime === x.at;
    const odd = writer.scans.filter((x) => !onTime(x) && x.row.pathTime <= x.at + DAY);
    expect(odd.every(({ at, row }) => at - row.pathTime >= HOUR)).toBe(true); // late ones only
  });

  it('numbers scans 1, 2, 3… per order', async () => {
    const seqs = new Map<string, number[]>();
    for (const { row } of w.scans) {
      if (row.order_id === null) continue;
      const list = seqs.get(row.order_id) ?? [];
      list.push(row.traceSeq);
      seqs.set(row.order_id, list);
    }
    for (const list of seqs.values()) {
      const sorted = [...list].sort((a, b) => a - b);
      expect(new Set(sorted).size).toBe(sorted.length);
      expect(sorted[0]).toBeLessThanOrEqual(2); // scan 1 may have a NULL order_id
    }
  });

  it('keeps one tracking row per order except the deliberate duplicates, some tied', async () => {
    const options: GeneratorOptions = {
      ...small,
      rates: { duplicateTracking: 0.1, nullOrderId: 0 },
    };
    const gen = createGenerator({ ...options, chunkRows: 1 });
    const w = new RecordingWriter();
    await gen.advanceTo(w, options.start + 50 * DAY);
    const rowsByOrder = new Map<string, number[]>();
    for (const row of w.tracking.values()) {
      const list = rowsByOrder.get(row.order_id!) ?? [];
      list.push(row.id);
      rowsByOrder.set(row.order_id!, list);
    }
    const duplicated = [...rowsByOrder.values()].filter((ids) => ids.length > 1);
    expect(Math.max(...[...rowsByOrder.values()].map((ids) => ids.length))).toBe(2);
    expect(duplicated.length).toBe(gen.summary.orders.duplicateTracking);
    const tied = duplicated.filter(
      ([a, b]) => w.tracking.get(a!)!.update_time === w.tracking.get(b!)!.update_time,
    );
    expect(tied.length).toBe(gen.summary.orders.tiedTracking);
    expect(tied.length).toBeGreaterThan(0);
    expect(tied.length).toBeLessThan(duplicated.length);
  });

  it('reactivates orders after 8 or 14 months of dormancy', async () => {
    const options: GeneratorOptions = {
      seed: 3,
      start: JAN_2025,
      days: 30,
      ordersPerDay: 10,
      rates: { reactivated: 0.5, longLifecycle: 0, futureTimestamp: 0 },
    };
    const gen = createGenerator(options);
    const w = new RecordingWriter();
    await gen.advanceTo(w, options.start + 480 * DAY);
    const times = new Map<string, number[]>();
    for (const { row } of w.scans) {
      if (row.order_id === null) continue;
      const list = times.get(row.order_id) ?? [];
      list.push(row.pathTime);
      times.set(row.order_id, list);
    }
    const gaps = [...times.values()].map((list) => {
      const sorted = list.sort((a, b) => a - b);
      return Math.max(...sorted.slice(1).map((t, i) => t - sorted[i]!));
    });
    const dormant = gaps.filter((g) => g > 100 * DAY);
    expect(dormant.length).toBe(gen.summary.orders.reactivated);
    expect(dormant.length).toBeGreaterThan(100);
    expect(dormant.every((g) => g >= 8 * 30.44 * DAY)).toBe(true);
    expect(dormant.filter((g) => g >= 14 * 30.44 * DAY).length).toBeGreaterThan(30);
    expect(dormant.filter((g) => g < 9 * 30.44 * DAY).length).toBeGreaterThan(30);
  });

  it('keeps memory bounded by in-flight orders, not by history', async () => {
    const options: GeneratorOptions = { seed: 5, start: JAN_2025, days: 450, ordersPerDay: 20 };
    const gen = createGenerator({ ...options, chunkRows: 2_000 });
    let maxOrders = 0;
    let maxScheduled = 0;
    const writer = new CountingWriter(() => {
      maxOrders = Math.max(maxOrders, gen.pending.orders);
      maxScheduled = Math.max(maxScheduled, gen.pending.scheduled);
    });
    await gen.advanceTo(writer, options.start + options.days * DAY);
    const created = gen.summary.orders.created;
    expect(created).toBeGreaterThan(8_500);
    // Steady state: ~9 days of normal orders + 3% long (8 months) + 1% dormant (8–14 months).
    expect(maxOrders).toBeLessThan(25 * options.ordersPerDay);
    expect(maxScheduled).toBeLessThan(maxOrders + 200);
    expect(writer.maxChunkRows).toBeLessThan(2_000 + 100);
    expect(writer.rows).toBeGreaterThan(300_000);
  });

  it('refuses to go back in time', async () => {
    const gen = createGenerator(small);
    await gen.advanceTo(new CountingWriter(), small.start + DAY);
    await expect(gen.advanceTo(new CountingWriter(), small.start)).rejects.toThrow(/back in time/);
  });

  it('only writes strings that fit their declared VARCHAR length', async () => {
    const limits = (table: SourceTableName) =>
      SOURCE_TABLES[table].columns.flatMap((c) => {
        const m = /VARCHAR\((\d+)\)/.exec(c.type);
        return m ? [[c.name, Number(m[1])] as const] : [];
      });
    const check = (table: SourceTableName, rows: readonly object[]) => {
      for (const [name, max] of limits(table)) {
        const longest = Math.max(
          ...rows.map((r) => [...String((r as Record<string, unknown>)[name] ?? '')].length),
        );
        expect(longest, `${table}.${name}`).toBeLessThanOrEqual(max);
      }
    };
    check(
      'ecs_order_info',
      w.orders.map((x) => x.row),
    );
    check(
      'uni_tracking_info',
      w.trackingWrites.map((x) => x.row),
    );
    check(
      'uni_tracking_spath',
      w.scans.map((x) => x.row),
    );
  });
});

describe('generator after a failed write', () => {
  it('refuses to continue, because the source misses a chunk', async () => {
    const gen = createGenerator(small);
    const failing = new CountingWriter(() => {
      throw new Error('disk full');
    });
    await expect(gen.advanceTo(failing, small.start + DAY)).rejects.toThrow('disk full');
    await expect(gen.advanceTo(new CountingWriter(), small.start + 2 * DAY)).rejects.toThrow(
      /after a failed write/,
    );
  });
});
