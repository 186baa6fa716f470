/**
 * Before W1's first repetition and each W2 repetition the bench copies the marts for the dbt-style
 * reference and the floor (bench/reference.ts), several copies at once (bench/parallel.ts): each copy
 * must hold the marts' rows with the indexes its variant is meant to have, analyzed, or the reference
 * measures other tables than ours. W1's copies carry on from one repetition to the next, and what the
 * reference got wrong must still be one cycle's. And a failed copy must stop the others and say why.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onConnections } from '../../bench/parallel.js';
import {
  maintainReference,
  prepareReference,
  referenceIndexes,
  runReference,
  type ReferenceSchemas,
} from '../../bench/reference.js';
import { landed } from '../../bench/workloads.js';
import { resolveSettings } from '../../src/config/settings.js';
import { openWarehouse } from '../../src/engines/warehouse/open.js';
import type { WarehouseConnection } from '../../src/engines/warehouse/warehouse.js';
import { histTableName, marts } from '../../src/pipeline/marts.js';
import { exceptionsTable } from '../../src/pipeline/meta.js';
import { cli } from '../support/cli.js';
import { serverPair, skipServers, type EnginePair } from '../support/engines.js';
import { openFeed, SPECIAL_CASE_RATES } from '../support/feed.js';

const DAY = 86_400;
const START = 1_760_000_000;
const FIRST = START + 200 * DAY;

const opened: EnginePair[] = [];
afterEach(async () => {
  for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
});

const schemas: ReferenceSchemas = {
  plain: 'bench_ref_plain',
  indexed: 'bench_ref_indexed',
  floor: 'bench_ref_floor',
  audit: 'bench_ref_audit',
};

const count = async (p: EnginePair, schema: string, table: string): Promise<number> =>
  Number((await p.warehouse(`select count(*) as n from "${schema}"."${table}"`))[0]?.n);

const indexCount = async (p: EnginePair, schema: string, table: string): Promise<number> =>
  Number(
    (
      await p.warehouse(`select count(*) as n from pg_indexes where schemaname = $1 and tablename = $2`, [
        schema,
        table,
      ])
    )[0]?.n,
  );

/**
 * A server pair whose source is fed to FIRST, initialized and through its first cycle; `cycle(at)`
 * feeds the source to `at` and runs the next one, returning its run id.
 */
const loadedPair = async (seed: number) => {
  const p = await serverPair();
  opened.push(p);
  const feed = await openFeed(p, {
    seed,
    start: START,
    days: 240,
    ordersPerDay: 40,
    rates: SPECIAL_CASE_RATES,
  });
  const env = { ORDER_TRACKING_WAREHOUSE: p.warehouseUrl, ORDER_TRACKING_SOURCE: p.sourceUrl };
  const cycle = async (at: number): Promise<number> => {
    await feed.advanceTo(at);
    const run = await cli(['run'], { ...env, ORDER_TRACKING_NOW: String(at + 120) });
    expect(run.code, run.stderr).toBe(0);
    return Number(/^run (\d+)/m.exec(run.stdout)?.[1]);
  };
  await feed.advanceTo(FIRST);
  expect((await cli(['init'], { ...env, ORDER_TRACKING_NOW: String(FIRST) })).code).toBe(0);
  await cycle(FIRST);
  return { p, feed, cycle };
};

describe('bench reference copies on postgres+mariadb', () => {
  it('copies every mart, hist and ledger table whole, with each variant’s indexes, vacuumed and analyzed', async (ctx) => {
    if (await skipServers()) ctx.skip();
    const { p, feed } = await loadedPair(5);
    await feed.close();

    const settings = resolveSettings({ warehouse: p.warehouseUrl, source: p.sourceUrl }, {});
    const warehouse = await openWarehouse(settings.warehouse);
    try {
      // Twice: a repetition's copies replace the last one's.
      await prepareReference(warehouse, settings, schemas);
      const period = await prepareReference(warehouse, settings, schemas);
      const ods = settings.schemas.mart;
      for (const spec of marts) {
        const rows = await count(p, ods, spec.table);
        expect(rows, spec.table).toBeGreaterThan(0);
        for (const schema of [schemas.plain, schemas.indexed, schemas.floor])
          expect(await count(p, schema, spec.table), `${schema}.${spec.table}`).toBe(rows);
        const hist = histTableName(spec, period.name);
        const archived = await p.warehouse(
          `select 1 from information_schema.tables where table_schema = $1 and table_name = $2`,
          [ods, hist],
        );
        const histRows = archived.length > 0 ? await count(p, ods, hist) : 0;
        for (const schema of [schemas.plain, schemas.indexed])
          expect(await count(p, schema, hist), `${schema}.${hist}`).toBe(histRows);
        const wanted = referenceIndexes(spec);
        expect(await indexCount(p, schemas.plain, spec.table)).toBe(0);
        expect(await indexCount(p, schemas.indexed, spec.table)).toBe(wanted.mart.length);
        expect(await indexCount(p, schemas.indexed, hist)).toBe(wanted.hist.length);
        expect(await indexCount(p, schemas.floor, spec.table)).toBe(await indexCount(p, ods, spec.table));
      }
      const ledger = exceptionsTable(settings.schemas);
      const ledgerRows = await count(p, ledger.schema, ledger.name);
      for (const schema of [schemas.plain, schemas.indexed])
        expect(await count(p, schema, ledger.name)).toBe(ledgerRows);
      expect(await indexCount(p, schemas.indexed, ledger.name)).toBe(1);
      const stale = await p.warehouse(
        `select schemaname, relname from pg_stat_user_tables
          where schemaname in ($1, $2, $3) and (last_vacuum is null or last_analyze is null)`,
        [schemas.plain, schemas.indexed, schemas.floor],
      );
      expect(stale).toEqual([]);
    } finally {
      await warehouse.close();
    }
  });

  it("keeps W1's copies from one cycle to the next, and still tells what the reference got wrong in each", async (ctx) => {
    if (await skipServers()) ctx.skip();
    const { p, feed, cycle } = await loadedPair(6);

    const settings = resolveSettings({ warehouse: p.warehouseUrl, source: p.sourceUrl }, {});
    const warehouse = await openWarehouse(settings.warehouse);
    try {
      const ods = settings.schemas.mart;
      const oursNow = async (): Promise<Record<string, number>> =>
        Object.fromEntries(await Promise.all(marts.map(async (m) => [m.name, await count(p, ods, m.table)])));
      const noSettling = async (): Promise<void> => undefined;
      const period = await prepareReference(warehouse, settings, schemas);
      const second = await cycle(FIRST + DAY);
      const one = await runReference(
        warehouse,
        settings,
        schemas,
        period,
        (await landed(warehouse, settings, second)).window,
        noSettling,
      );
      await maintainReference(warehouse, schemas);
      const kept = {
        ours: await oursNow(),
        reference: new Map(one.variants.map((v) => [v.variant, v.martRows])),
      };
      const third = await cycle(FIRST + 2 * DAY);
      const two = await runReference(
        warehouse,
        settings,
        schemas,
        period,
        (await landed(warehouse, settings, third)).window,
        noSettling,
        kept,
      );

      // The copies started as ours: each cycle's rows over ours add up to where they stand now.
      const ours = await oursNow();
      let wrong = 0;
      for (const v of two.variants) {
        const before = one.variants.find((x) => x.variant === v.variant);
        const schema = v.variant === 'plain' ? schemas.plain : schemas.indexed;
        for (const m of marts) {
          const now = (await count(p, schema, m.table)) - (ours[m.name] ?? 0);
          expect(v.martRows[m.name], `${v.variant} ${m.name}`).toBe(await count(p, schema, m.table));
          expect(
            (before?.problems.rowsOverOurs[m.name] ?? NaN) + (v.problems.rowsOverOurs[m.name] ?? NaN),
          ).toBe(now);
          wrong += Math.abs(v.problems.rowsOverOurs[m.name] ?? 0);
        }
      }
      // Else the sums above would hold with every count at zero.
      expect(wrong).toBeGreaterThan(0);
    } finally {
      await feed.close();
      await warehouse.close();
    }
  });

  it('stops starting jobs after one fails, lets the running one finish, and throws its error', async (ctx) => {
    if (await skipServers()) ctx.skip();
    const p = await serverPair();
    opened.push(p);
    await p.warehouse('create table ran (job text)');
    const warehouse = await openWarehouse(resolveSettings({ warehouse: p.warehouseUrl }, {}).warehouse);
    try {
      const job = (name: string, weight: number, sql: string) => ({
        weight,
        run: async (c: WarehouseConnection) => {
          await c.execute(sql);
          await c.execute(`insert into ran values ('${name}')`);
        },
      });
      await expect(
        onConnections(
          warehouse,
          [
            job('small', 1, 'select 1'),
            job('slow', 3, 'select pg_sleep(0.3)'),
            job('broken', 2, 'select * from no_such_table'),
          ],
          2,
        ),
      ).rejects.toThrow(/no_such_table/);
      expect(await p.warehouse('select job from ran order by job')).toEqual([{ job: 'slow' }]);
    } finally {
      await warehouse.close();
    }
  });
});
