/**
 * Values the warehouse cannot hold as the source holds them (SPEC §5): each lands as NULL in raw
 * under an open BAD_VALUE naming table, column and source row, its row kept out of the marts, and
 * the rest of the window lands in the same run; bytes that are not UTF-8 are replaced and reported
 * once per row; timestamps before the floor stay out of the marts and make no hist table. The
 * cases run on every stack that has them: DuckDB + SQLite and PostgreSQL + MariaDB, and where the
 * path differs, MariaDB into DuckDB (the row path) and SQLite into PostgreSQL (COPY of JS values);
 * and Redshift (its test double) from MariaDB and from SQLite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import {
  embeddedPair,
  pairs,
  redshiftPair,
  serverPair,
  skipServers,
  type EnginePair,
  type Params,
} from '../support/engines.js';

const NOW = 1_780_000_000; // 2026-05-28 20:26:40 UTC
const HOUR = 3_600;
const MAX_UNSIGNED = '18446744073709551615';
/** 65 digits: wider than DuckDB's decimals (38). */
const WIDE = '12345678901234567890123456789012345.123456789012345678901234567890';

/** The source of one pair with the warehouse of another: the paths a pair alone does not take. */
const crossed = async (
  sourceOf: () => Promise<EnginePair>,
  warehouseOf: () => Promise<EnginePair>,
): Promise<EnginePair> => {
  const [s, w] = [await sourceOf(), await warehouseOf()];
  return {
    name: `${w.name.split('+')[0]}+${s.name.split('+')[1]}`,
    warehouseUrl: w.warehouseUrl,
    sourceUrl: s.sourceUrl,
    sourceDialect: s.sourceDialect,
    source: (sql, params) => s.source(sql, params),
    warehouse: (sql, params) => w.warehouse(sql, params),
    ...(w.double ? { double: w.double } : {}),
    async close() {
      await s.close();
      await w.close();
    },
  };
};

const stacks = [
  ...pairs,
  {
    name: 'duckdb+mariadb',
    create: () => crossed(serverPair, embeddedPair),
    skip: skipServers,
  },
  {
    name: 'postgres+sqlite',
    create: () => crossed(embeddedPair, serverPair),
    skip: skipServers,
  },
  redshiftPair,
  {
    name: 'redshift-double+sqlite',
    create: () => crossed(embeddedPair, redshiftPair.create),
    skip: skipServers,
  },
] as const;

type Stack = (typeof stacks)[number]['name'];

for (const stack of stacks) {
  describe.skipIf(await stack.skip())(`bad values on ${stack.name}`, () => {
    let p: EnginePair;
    const on = (...names: Stack[]): boolean => names.includes(stack.name);
    const env = (now: number) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(now),
    });
    const ok = async (args: string[], now: number) => {
      const r = await cli(args, env(now));
      expect(r.stderr, r.stderr).not.toMatch(/order-tracking:/);
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    const run = (now: number) => ok(['run'], now);
    const mysql = () => p.sourceDialect === 'mysql';
    const order = (id: number, addTime: number, extra: Record<string, unknown> = {}) => {
      const columns = ['id', 'order_id', 'partner_id', 'add_time', ...Object.keys(extra)];
      return p.source(
        `insert into ecs_order_info (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        [id, `OT${id}`, 7, addTime, ...Object.values(extra)] as Params,
      );
    };
    const tracking = (id: number, updateTime: number, location = 'Köln', status = 'IN_TRANSIT') =>
      p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [id, `OT${id}`, `TN${id}`, status, 'DHL', location, updateTime],
      );
    const scan = (id: number, pathTime: number, order = `OT${id}`) =>
      p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, 1, pathTime, 'Lyon', 'ARRIVE', null],
      );
    const ids = async (table: string) =>
      (await p.warehouse(`select distinct id from ${table} order by id`)).map((r) => Number(r.id));
    const ledger = async (type: string) =>
      p.warehouse(
        `select source_table, cast(source_id as varchar) as source_id, order_id, column_name, event_time,
                notes, resolved_at is null as open
           from settlement_ods.order_tracking_exceptions where exception_type = $1
          order by source_table, source_id, column_name`,
        [type],
      );
    const histTables = async () =>
      (
        await p.warehouse(
          `select table_name from information_schema.tables
            where table_schema = 'settlement_ods' and table_name like 'hist_%' order by 1`,
        )
      ).map((r) => String(r.table_name));

    beforeEach(async () => {
      p = await stack.create();
    });
    afterEach(async () => p.close());

    if (on('duckdb+sqlite', 'postgres+sqlite', 'redshift-double+sqlite'))
      it('lands a window holding several bad SQLite values in one run, naming each by table, column and id', async () => {
        await p.source('alter table ecs_order_info add column price DECIMAL(10,2)');
        await ok(['init'], NOW);
        // An INT holds 64 bits in SQLite: 3,000,000,000 is a good value.
        await order(1, NOW - HOUR, { price: '12.50', weight_grams: 3_000_000_000 });
        await order(2, NOW - HOUR, { price: 123456789012.345 });
        await order(3, NOW - HOUR, { price: 'abc' });
        await order(4, NOW - HOUR, { price: '7.25' });
        for (const id of [1, 2, 3, 4]) await tracking(id, NOW - HOUR);
        // SQLite stores the bytes as they come: K, a latin1 ö, ln, in two columns of one row.
        await p.source(
          `insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark)
           values (1, 'OT1', 1, ${NOW - HOUR}, cast(x'4bf66c6e' as text), 'ARRIVE', cast(x'4bf6' as text))`,
        );
        await scan(2, NOW - HOUR);
        const first = await run(NOW);
        expect(first.stdout).toMatch(/ecs_order_info 4 \(\+2 BAD_VALUE stored as NULL\)/);
        expect(first.stdout).toMatch(/uni_tracking_spath 2 \(\+1 INVALID_UTF8\)/);

        expect(await ids('settlement_public.ecs_order_info_raw')).toEqual([1, 2, 3, 4]);
        expect(
          await p.warehouse(
            'select id, cast(price as varchar) as price, weight_grams from settlement_public.ecs_order_info_raw order by id',
          ),
        ).toEqual([
          { id: 1, price: '12.50', weight_grams: 3_000_000_000 },
          { id: 2, price: null, weight_grams: null },
          { id: 3, price: null, weight_grams: null },
          { id: 4, price: '7.25', weight_grams: null },
        ]);
        expect(await ids('settlement_ods.mart_ecs_order_info')).toEqual([1, 4]);
        expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual([1, 2, 3, 4]);
        const bad = await ledger('BAD_VALUE');
        expect(bad.map(({ notes: _n, ...e }) => e)).toEqual([
          { ...held('ecs_order_info', 2, 'price'), event_time: NOW - HOUR },
          { ...held('ecs_order_info', 3, 'price'), event_time: NOW - HOUR },
        ]);
        expect(bad[0]?.notes).toMatch(/^price: "123456789012\.3\d*" does not fit decimal\(10,2\)/);
        expect(bad[1]?.notes).toBe(
          'price: "abc" is not a decimal(10,2); stored as NULL in raw, the row kept out of the marts',
        );

        // Replaced, reported once for the row, and the row flows on.
        expect(await ids('settlement_ods.mart_uni_tracking_spath')).toEqual([1, 2]);
        expect(
          await p.warehouse('select scan_site from settlement_ods.mart_uni_tracking_spath where id = 1'),
        ).toEqual([{ scan_site: 'K\uFFFDln' }]);
        expect((await ledger('INVALID_UTF8')).map(({ notes: _n, ...e }) => e)).toEqual([
          { ...held('uni_tracking_spath', 1, 'scan_site'), event_time: NOW - HOUR },
        ]);

        // The overlap reads every row again: nothing is opened twice, nothing changes in the marts.
        await run(NOW + 900);
        expect(await ledger('BAD_VALUE')).toEqual(bad);
        expect(await ledger('INVALID_UTF8')).toHaveLength(1);
        expect(await ids('settlement_ods.mart_ecs_order_info')).toEqual([1, 4]);
      });

    // Not on Redshift: its varchar(n) is varchar(4n) in bytes, so 40 ASCII characters fit there.
    if (on('postgres+sqlite'))
      it('writes a string too long for varchar(n) and a U+0000 as NULL in PostgreSQL, naming each', async () => {
        await ok(['init'], NOW);
        await tracking(1, NOW - HOUR, 'Köln', 'x'.repeat(40));
        await tracking(2, NOW - HOUR, 'Kö\u0000ln');
        await tracking(3, NOW - HOUR);
        await run(NOW);
        expect(
          await p.warehouse(
            'select id, status, location from settlement_public.uni_tracking_info_raw order by id',
          ),
        ).toEqual([
          { id: 1, status: null, location: 'Köln' },
          { id: 2, status: 'IN_TRANSIT', location: null },
          { id: 3, status: 'IN_TRANSIT', location: 'Köln' },
        ]);
        expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual([3]);
        expect((await ledger('BAD_VALUE')).map((e) => [e.source_id, e.column_name, e.notes])).toEqual([
          [
            '1',
            'status',
            'status: 40 characters, more than varchar(32); stored as NULL in raw, the row kept out of the marts',
          ],
          [
            '2',
            'location',
            'location: holds the character U+0000, which text here cannot store; stored as NULL in raw, the row kept out of the marts',
          ],
        ]);
      });

    if (on('postgres+mariadb', 'duckdb+mariadb', 'redshift-double+mariadb'))
      it('lands a window of MariaDB zero dates, U+0000 and BIGINT UNSIGNED values in one run, naming each', async () => {
        await p.source(
          `alter table ecs_order_info modify id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
             modify partner_id BIGINT UNSIGNED NULL,
             add column ext BIGINT UNSIGNED NULL, add column shipped_at DATETIME NULL, add column label VARCHAR(16) NULL`,
        );
        await ok(['init'], NOW);
        // The keys keep their type: a required integer column stays bigint.
        const types = await p.warehouse(
          `select column_name, lower(data_type) as t from information_schema.columns
            where table_schema = 'settlement_public' and table_name = 'ecs_order_info_raw'
              and column_name in ('id', 'partner_id', 'ext') order by column_name`,
        );
        expect(types.map((r) => [r.column_name, String(r.t).replace('numeric', 'decimal')])).toEqual([
          ['ext', on('duckdb+mariadb') ? 'decimal(20,0)' : 'decimal'],
          ['id', 'bigint'],
          ['partner_id', 'bigint'],
        ]);
        await p.source("set session sql_mode = ''");
        await order(1, NOW - HOUR, { ext: MAX_UNSIGNED, shipped_at: '2026-05-28 10:00:00', label: 'ok' });
        await order(2, NOW - HOUR, { shipped_at: '0000-00-00 00:00:00' });
        await p.source("set session sql_mode = 'ALLOW_INVALID_DATES'");
        await order(3, NOW - HOUR, { shipped_at: '2024-02-30 10:00:00' });
        await p.source(
          `insert into ecs_order_info (id, order_id, partner_id, add_time) values (4, 'OT4', ${MAX_UNSIGNED}, ${NOW - HOUR})`,
        );
        await order(5, NOW - HOUR, { label: 'a\u0000b' });
        await order(6, NOW - HOUR);
        await run(NOW);

        expect(await ids('settlement_public.ecs_order_info_raw')).toEqual([1, 2, 3, 4, 5, 6]);
        const [first] = await p.warehouse(
          'select cast(ext as varchar) as ext from settlement_public.ecs_order_info_raw where id = 1',
        );
        expect(first).toEqual({ ext: MAX_UNSIGNED });
        // DuckDB holds U+0000 in text; PostgreSQL and Redshift cannot.
        const nulHeld = on('postgres+mariadb', 'redshift-double+mariadb');
        expect(await ids('settlement_ods.mart_ecs_order_info')).toEqual(nulHeld ? [1, 6] : [1, 5, 6]);
        expect(
          (await ledger('BAD_VALUE')).map((e) => [e.source_id, e.order_id, e.column_name, e.notes]),
        ).toEqual([
          [
            '2',
            'OT2',
            'shipped_at',
            'shipped_at: "0000-00-00 00:00:00" is a zero date; stored as NULL in raw, the row kept out of the marts',
          ],
          [
            '3',
            'OT3',
            'shipped_at',
            'shipped_at: "2024-02-30 10:00:00" is not a valid date; stored as NULL in raw, the row kept out of the marts',
          ],
          [
            '4',
            'OT4',
            'partner_id',
            `partner_id: "${MAX_UNSIGNED}" is out of range for bigint; stored as NULL in raw, the row kept out of the marts`,
          ],
          ...(nulHeld
            ? [
                [
                  '5',
                  'OT5',
                  'label',
                  'label: holds the character U+0000, which text here cannot store; stored as NULL in raw, the row kept out of the marts',
                ],
              ]
            : []),
        ]);
      });

    // Redshift's NUMERIC, as DuckDB's DECIMAL, holds at most 38 digits.
    if (on('duckdb+mariadb', 'redshift-double+mariadb'))
      it('stores a DECIMAL(65,30) as text in DuckDB, every digit kept, with a warning and a recorded change', async () => {
        await p.source('alter table ecs_order_info add column amount DECIMAL(65,30) NULL');
        const init = await cli(['init'], env(NOW));
        expect(init.code, init.stderr).toBe(0);
        expect(init.stderr).toBe(
          'warning: decimal wider than the warehouse holds: stored as text, every digit kept column=ecs_order_info.amount type=decimal(65,30)\n',
        );
        await order(1, NOW - HOUR, { amount: WIDE });
        await run(NOW);
        await run(NOW + 900);
        expect(
          await p.warehouse('select amount from settlement_ods.mart_ecs_order_info where id = 1'),
        ).toEqual([{ amount: WIDE }]);
        expect(
          await p.warehouse(
            'select table_name, column_name, change, column_type from order_tracking_meta.schema_changes',
          ),
        ).toEqual([
          {
            table_name: 'ecs_order_info',
            column_name: 'amount',
            change: 'stored_as_text',
            column_type: 'decimal(65,30)',
          },
        ]);
      });

    if (on('postgres+mariadb', 'duckdb+mariadb', 'redshift-double+mariadb'))
      it('follows a bigint column to BIGINT UNSIGNED as a widened column, and lands values past 2^63', async () => {
        await p.source('alter table ecs_order_info add column ext BIGINT NULL');
        await ok(['init'], NOW);
        await order(1, NOW - HOUR, { ext: 5 });
        await run(NOW);
        await p.source('alter table ecs_order_info modify ext BIGINT UNSIGNED NULL');
        await order(2, NOW - HOUR, { ext: MAX_UNSIGNED });
        await run(NOW + 900);
        expect(
          await p.warehouse(
            'select id, cast(ext as varchar) as ext from settlement_ods.mart_ecs_order_info order by id',
          ),
        ).toEqual([
          { id: 1, ext: '5' },
          { id: 2, ext: MAX_UNSIGNED },
        ]);
        const changes = await p.warehouse(
          'select table_name, column_name, change, column_type from order_tracking_meta.schema_changes',
        );
        expect(changes).toEqual([
          {
            table_name: 'ecs_order_info',
            column_name: 'ext',
            change: 'widened',
            column_type: on('duckdb+mariadb') ? 'decimal(20,0)' : 'numeric(20,0)',
          },
        ]);
      });

    if (on('duckdb+sqlite', 'postgres+mariadb', 'redshift-double+mariadb'))
      it('keeps timestamps of 0 and before the floor out of the marts, one TIMESTAMP_BEFORE_FLOOR each, and makes no hist table', async () => {
        await ok(['init'], NOW);
        await tracking(1, NOW - HOUR);
        await tracking(2, 0);
        await tracking(3, -86_400);
        await tracking(4, Date.UTC(1985, 0, 1) / 1000);
        await scan(1, NOW - HOUR);
        await scan(2, 0, 'OT1');
        await scan(3, -5, 'OT1');
        // Below the archive's lower bound (the smallest INT): it would never age out of the mart.
        if (!mysql()) await scan(4, -3_000_000_000, 'OT1');
        await run(NOW);
        await run(NOW + 900);

        expect(await ids('settlement_public.uni_tracking_info_raw')).toEqual([1, 2, 3, 4]);
        expect(await ids('settlement_ods.mart_uni_tracking_info')).toEqual([1]);
        expect(await ids('settlement_ods.mart_uni_tracking_spath')).toEqual([1]);
        expect(await histTables()).toEqual([]);
        expect(
          (await ledger('TIMESTAMP_BEFORE_FLOOR')).map((e) => [
            e.source_table,
            e.source_id,
            e.event_time,
            e.open,
          ]),
        ).toEqual([
          ['uni_tracking_info', '2', 0, true],
          ['uni_tracking_info', '3', -86_400, true],
          ['uni_tracking_info', '4', Date.UTC(1985, 0, 1) / 1000, true],
          ['uni_tracking_spath', '2', 0, true],
          ['uni_tracking_spath', '3', -5, true],
          ...(mysql() ? [] : [['uni_tracking_spath', '4', -3_000_000_000, true]]),
        ]);
        // Nothing else is reported for them.
        expect(await ledger('NULL_KEY')).toEqual([]);
        expect(await ledger('FUTURE_TIMESTAMP')).toEqual([]);
      });

    if (on('duckdb+sqlite', 'redshift-double+sqlite'))
      it('fails the run in one line when a window holds more than 10,000 bad values, landing nothing', async () => {
        await p.source('alter table ecs_order_info add column price DECIMAL(10,2)');
        await ok(['init'], NOW);
        await p.source(
          `with recursive n(i) as (select 1 union all select i + 1 from n where i < 10001)
           insert into ecs_order_info (id, order_id, partner_id, add_time, price)
           select i, 'OT' || i, 7, ${NOW - HOUR}, 'n/a' from n`,
        );
        const r = await cli(['run'], env(NOW));
        expect(r.code).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^order-tracking: .*cannot load settlement_public\.ecs_order_info_raw: more than 10000 values in this window cannot be stored as the source holds them, e\.g\. price of id 1 \("n\/a" is not a decimal\(10,2\)\), price of id 2 .*; fix the source's values or the column's type, then run again/,
        );
        expect(await ids('settlement_ods.mart_ecs_order_info')).toEqual([]);
        expect(await ledger('BAD_VALUE')).toEqual([]);
      });
  });
}

/** An open exception's identity, as the ledger query above reads it. */
function held(table: string, id: number, column: string) {
  return { source_table: table, source_id: String(id), order_id: `OT${id}`, column_name: column, open: true };
}
