/**
 * `init` and `run` as a database user a DBA gave pre-created schemas and nothing else (no CREATE on
 * the database), on PostgreSQL and on Redshift (its test double): the way production warehouses
 * are often set up. `create schema if not exists` would need CREATE on the database even for a
 * schema that exists, so `init` creates only the schemas that are missing.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { redshiftPair, serverPair, skipServers, type EnginePair } from '../support/engines.js';
import { openFeed } from '../support/feed.js';

const utc = (year: number, month: number, day: number, hour = 0): number =>
  Date.UTC(year, month, day, hour) / 1000;
const START = utc(2025, 0, 1);
const FIRST = utc(2025, 8, 1, 6);
const SCHEMAS = ['settlement_public', 'settlement_ods', 'order_tracking_meta'];
const admin = 'postgres://postgres@127.0.0.1:5432/postgres';

const stacks = [{ name: 'postgres+mariadb', create: () => serverPair(), skip: skipServers }, redshiftPair];

for (const stack of stacks) {
  describe.skipIf(await stack.skip())(`init with pre-created schemas only, on ${stack.name}`, () => {
    let p: EnginePair;
    const role = `ot_role_${randomBytes(4).toString('hex')}`;
    afterEach(async () => {
      await p.close();
      const a = new pg.Client({ connectionString: admin });
      await a.connect();
      await a.query(`drop role if exists ${role}`);
      await a.end();
    });

    it('initialises and runs as a user that may not create schemas, in schemas it owns', async () => {
      p = await stack.create();
      const database = new URL(p.warehouseUrl).pathname.slice(1);
      const db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
      await db.connect();
      try {
        await db.query(`create role ${role} login`);
        for (const schema of SCHEMAS) await db.query(`create schema ${schema} authorization ${role}`);
        // The double's emulated system views, readable as on Redshift.
        if (p.double) {
          await db.query(`grant usage on schema ot_redshift_double to ${role}`);
          await db.query(`grant select on all tables in schema public to ${role}`);
        }
        const [{ allowed } = { allowed: true }] = (
          await db.query<{ allowed: boolean }>(
            `select has_database_privilege($1, current_database(), 'CREATE') as allowed`,
            [role],
          )
        ).rows;
        expect(allowed).toBe(false);
      } finally {
        await db.end();
      }
      const feed = await openFeed(p, { seed: 5, start: START, days: 240, ordersPerDay: 4 });
      await feed.advanceTo(FIRST);
      await feed.close();
      const env = {
        ORDER_TRACKING_WAREHOUSE: p.warehouseUrl.replace('//postgres@', `//${role}@`),
        ORDER_TRACKING_SOURCE: p.sourceUrl,
        ORDER_TRACKING_NOW: String(FIRST + 120),
      };
      const init = await cli(['init'], env);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      const run = await cli(['run'], env);
      expect(run.code, run.stderr).toBe(0);
      const [marts] = await p.warehouse(
        `select (select count(*) from settlement_ods.mart_uni_tracking_info) as uti,
                (select count(*) from settlement_ods.mart_uni_tracking_spath) as uts`,
      );
      expect(Number(marts?.uti)).toBeGreaterThan(0);
      expect(Number(marts?.uts)).toBeGreaterThan(0);
    });
  });
}
