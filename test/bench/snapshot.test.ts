/**
 * The bench repeats W2 from one warehouse state (bench/snapshot.ts): after a cycle and a restore the
 * warehouse must hold exactly what it held before, and the next cycle must land the same rows as
 * the first did, or the repetitions measure different work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { takeSnapshot } from '../../bench/snapshot.js';
import { resolveSettings } from '../../src/config/settings.js';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
import { openFeed, SPECIAL_CASE_RATES } from '../support/feed.js';
import { diffSnapshots, snapshotBusiness } from '../support/invariants.js';

const DAY = 86_400;
const START = 1_760_000_000;
const FIRST = START + 200 * DAY;
const BACKLOG = FIRST + DAY;

const opened: EnginePair[] = [];
afterEach(async () => {
  for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
});

const env = (p: EnginePair, now: number): Record<string, string> => ({
  ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
  ORDER_TRACKING_SOURCE: p.sourceUrl,
  ORDER_TRACKING_NOW: String(now),
});

/** Raw rows per table and the watermarks: what the next cycle reads from. */
const loadState = async (p: EnginePair): Promise<string> => {
  const raw = await p.warehouse(
    `select 'info' as t, count(*) as n from settlement_public.uni_tracking_info_raw
     union all select 'ecs', count(*) from settlement_public.ecs_order_info_raw
     union all select 'spath', count(*) from settlement_public.uni_tracking_spath_raw order by t`,
  );
  // updated_at is the wall clock of the cycle that set the mark.
  const marks = await p.warehouse(
    'select table_name, cursor_column, value, stray_id, batch_id from order_tracking_meta.watermarks order by 1',
  );
  return JSON.stringify({ raw, marks }, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
};

describe.each(pairs)('bench W2 repetitions on $name', ({ create, skip }) => {
  it('puts the warehouse back as it was, and the repeated cycle lands the same rows', async (ctx) => {
    if (await skip()) ctx.skip();
    const p = await create();
    opened.push(p);
    const feed = await openFeed(p, {
      seed: 11,
      start: START,
      days: 240,
      ordersPerDay: 40,
      rates: SPECIAL_CASE_RATES,
    });
    await feed.advanceTo(FIRST);
    const init = await cli(['init'], env(p, FIRST));
    expect(init.code, init.stderr).toBe(0);
    const first = await cli(['run'], env(p, FIRST + 120));
    expect(first.code, first.stderr).toBe(0);
    const before = { business: await snapshotBusiness(p), load: await loadState(p) };

    const settings = resolveSettings({ warehouse: p.warehouseUrl, source: p.sourceUrl }, {});
    const kept = await takeSnapshot(settings, 'bench_snapshot');
    await feed.advanceTo(BACKLOG);
    await feed.close();
    const backlog = await cli(['run'], env(p, BACKLOG + 120));
    expect(backlog.code, backlog.stderr).toBe(0);
    const after = { business: await snapshotBusiness(p), load: await loadState(p) };
    expect(diffSnapshots(before.business, after.business)).not.toEqual([]);

    await kept.restore();
    expect(diffSnapshots(before.business, await snapshotBusiness(p))).toEqual([]);
    expect(await loadState(p)).toBe(before.load);

    const again = await cli(['run'], env(p, BACKLOG + 120));
    expect(again.code, again.stderr).toBe(0);
    expect(diffSnapshots(after.business, await snapshotBusiness(p))).toEqual([]);
    expect(await loadState(p)).toBe(after.load);
    await kept.drop();
  });
});
