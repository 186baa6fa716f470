import { describe, expect, it } from 'vitest';
import {
  createGenerator,
  PRODUCTION_RATE,
  productionBatch,
  scaleFactorOptions,
  type WriteChunk,
} from '../../src/generator/index.js';
import { CountingWriter, DAY, JAN_2025 } from './recording-writer.js';

describe('scale factor and production batches', () => {
  it('maps SF 1 to ~1,650 new orders and ~65,000 scans a day over 6 months', async () => {
    const options = scaleFactorOptions(1, JAN_2025);
    expect(options.ordersPerDay).toBeCloseTo(1_632, 0);
    expect(options.days).toBe(183);
    expect(options.start + options.days * DAY).toBe(JAN_2025);

    // 10 steady days at SF 0.05 (after the 15-day ramp-up), scaled back to SF 1.
    const gen = createGenerator(scaleFactorOptions(0.05, JAN_2025));
    const writer = new CountingWriter();
    await gen.advanceTo(writer, gen.start + 30 * DAY);
    const before = gen.summary;
    await gen.advanceTo(writer, gen.start + 40 * DAY);
    const after = gen.summary;
    const scansPerDay = (after.inserted.uni_tracking_spath - before.inserted.uni_tracking_spath) / 10 / 0.05;
    const trackingPerDay =
      (after.trackingUpdates +
        after.inserted.uni_tracking_info -
        before.trackingUpdates -
        before.inserted.uni_tracking_info) /
      10 /
      0.05;
    expect(scansPerDay).toBeGreaterThan(55_000);
    expect(scansPerDay).toBeLessThan(75_000);
    expect(trackingPerDay).toBeGreaterThan(16_000);
    expect(trackingPerDay).toBeLessThan(23_000);
  });

  it('writes one production-rate 15-minute batch on top of existing orders', async () => {
    const gen = createGenerator(scaleFactorOptions(0.01, JAN_2025));
    await gen.advanceTo(new CountingWriter(), gen.start + 20 * DAY);
    const existing = gen.summary;

    const knownOrders = existing.inserted.ecs_order_info;
    let updatesOfExisting = 0;
    const writer = new CountingWriter((chunk: WriteChunk) => {
      for (const row of chunk.uni_tracking_info) {
        if (row.id <= existing.inserted.uni_tracking_info) updatesOfExisting++;
      }
      for (const row of chunk.ecs_order_info) expect(row.id).toBeGreaterThan(knownOrders);
    });
    const now = gen.now;
    const batch = await productionBatch(gen, writer);
    expect(gen.now).toBe(now + 900);

    expect(batch.inserted.ecs_order_info).toBe(PRODUCTION_RATE.newOrders);
    const tracking = batch.trackingUpdates + batch.inserted.uni_tracking_info;
    expect(tracking).toBeGreaterThan(PRODUCTION_RATE.trackingUpdates * 0.97);
    expect(tracking).toBeLessThan(PRODUCTION_RATE.trackingUpdates * 1.03);
    // ~2% of the batch's scans are uploaded in later windows.
    expect(batch.inserted.uni_tracking_spath).toBeGreaterThan(PRODUCTION_RATE.scanEvents * 0.93);
    expect(batch.inserted.uni_tracking_spath).toBeLessThan(PRODUCTION_RATE.scanEvents * 1.05);
    expect(updatesOfExisting).toBeGreaterThan(0);

    // Batch after batch (W2 runs 96 of them) keeps the same shape.
    let scans = 0;
    for (let i = 0; i < 8; i++) scans += (await productionBatch(gen, writer)).inserted.uni_tracking_spath;
    expect(scans / 8).toBeGreaterThan(PRODUCTION_RATE.scanEvents * 0.93);
    expect(scans / 8).toBeLessThan(PRODUCTION_RATE.scanEvents * 1.05);
  });

  it("spreads a window's updates over as many orders in flight as it has, one update each", async () => {
    const gen = createGenerator(scaleFactorOptions(0.05, JAN_2025));
    await gen.advanceTo(new CountingWriter(), gen.start + 30 * DAY);
    const known = gen.summary.inserted.uni_tracking_info;
    let updates = 0;
    const orders = new Set<string | null>();
    const writer = new CountingWriter((chunk: WriteChunk) => {
      for (const row of chunk.uni_tracking_info)
        if (row.id <= known) {
          updates++;
          orders.add(row.order_id);
        }
    });
    // 600 updates on about 1,000 orders in flight; drawn with repeats they reached about 420.
    await productionBatch(gen, writer, { newOrders: 40, trackingUpdates: 600, scanEvents: 2_000 });
    expect(updates).toBeGreaterThan(550);
    expect(orders.size).toBeGreaterThan(updates * 0.97);
  });

  it('is deterministic', async () => {
    const run = async () => {
      const gen = createGenerator(scaleFactorOptions(0.002, JAN_2025));
      await gen.advanceTo(new CountingWriter(), gen.start + 5 * DAY);
      const ids: number[] = [];
      const writer = new CountingWriter((c) => ids.push(...c.uni_tracking_info.map((r) => r.id)));
      await productionBatch(gen, writer, { newOrders: 50, trackingUpdates: 500, scanEvents: 1_500 });
      return ids;
    };
    expect(await run()).toEqual(await run());
  });
});
