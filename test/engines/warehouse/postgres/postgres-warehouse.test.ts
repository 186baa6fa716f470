import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/config/errors.js';
import type { Column, LogicalType, Row, Value } from '../../../../src/engines/types.js';
import { openPostgresWarehouse } from '../../../../src/engines/warehouse/postgres/postgres-warehouse.js';
import { withConnection } from '../../../../src/engines/warehouse/warehouse.js';
import type { Warehouse, WarehouseConnection } from '../../../../src/engines/warehouse/warehouse.js';
import { createTestDatabase, pgUp } from './test-database.js';
import type { TestDatabase } from './test-database.js';

const column = (name: string, type: LogicalType): Column => ({ name, sourceName: name, type });

async function* batches(rows: readonly Row[], size: number): AsyncIterable<readonly Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!pgUp && process.env.CI !== 'true')('PostgreSQL warehouse', () => {
  let db: TestDatabase;
  let warehouse: Warehouse;

  beforeAll(async () => {
    db = await createTestDatabase();
    warehouse = await openPostgresWarehouse(db.url);
  });

  afterAll(async () => {
    await warehouse?.close();
    await db?.drop();
  });

  const execute = (sql: string, params?: readonly Value[]) =>
    withConnection(warehouse, (c) => c.execute(sql, params));
  const count = async (table: string): Promise<number> => {
    const rows = await withConnection(warehouse, (c) =>
      c.query<{ n: number }>(`select count(*) as n from ${table}`),
    );
    return rows[0]?.n ?? -1;
  };
  const createTable = async (schema: string, table: string, columns: readonly Column[]) => {
    const { quote, columnType } = warehouse.dialect;
    await execute(`create schema if not exists ${quote(schema)}`);
    await execute(
      `create table ${warehouse.dialect.table(schema, table)} (${columns
        .map((c) => `${quote(c.name)} ${columnType(c.type)}`)
        .join(', ')})`,
    );
  };

  describe('load', () => {
    const columns = [
      column('id', { kind: 'bigint' }),
      column('big', { kind: 'bigint' }),
      column('n', { kind: 'integer' }),
      column('x', { kind: 'double' }),
      column('amount', { kind: 'decimal', precision: 14, scale: 2 }),
      column('label', { kind: 'varchar', length: 40 }),
      column('note', { kind: 'text' }),
      column('flag', { kind: 'boolean' }),
      column('day', { kind: 'date' }),
      column('at', { kind: 'timestamp' }),
    ];
    const labels = [
      '😀'.repeat(40), // 80 UTF-16 units, 40 characters: fits varchar(40)
      '漢字かな交じり文',
      'e\u0301 n\u0303 a\u030a',
      'tab\there',
      'line\nbreak\r\nand\rreturn',
      'back\\slash \\N \\t',
      '\\N',
      '\\.',
      '',
      '  spaced  ',
      `quote " and ' both`,
    ];

    /** Row `i` as loaded, and as it must read back. */
    const sample = (i: number): [Row, Row] => {
      const id = i + 1;
      const bigIn: Value = [`${2n ** 60n + BigInt(i)}`, 2n ** 62n + BigInt(i), i * -7, null][i % 4] ?? null;
      const bigOut: Value = typeof bigIn === 'bigint' ? bigIn.toString() : bigIn;
      const n = i % 7 === 0 ? null : ((i * 7919) % 2_000_000_000) - 1_000_000_000;
      const x = i % 11 === 0 ? null : i / 7;
      const amount = i % 13 === 0 ? null : `${i % 2 ? '-' : ''}${i * 3}.${String(i % 100).padStart(2, '0')}`;
      const label = i % 17 === 0 ? null : (labels[i % labels.length] ?? '');
      const note = i % 19 === 0 ? null : `${labels[(i * 3) % labels.length]}|${id}|\\|\t|\n|🚚 📦`;
      const flag = i % 5 === 0 ? null : i % 2 === 0;
      const day = `20${String(10 + (i % 20))}-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')}`;
      const time = `${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:07`;
      const atIn = i % 3 === 0 ? `${day} ${time}.123` : `${day}T${time}Z`;
      const atOut = `${day}T${time}.${i % 3 === 0 ? '123' : '000'}Z`;
      return [
        [id, bigIn, n, x, amount, label, note, flag, day, atIn],
        [id, bigOut, n, x, amount, label, note, flag, day, atOut],
      ];
    };

    it('loads 100k rows in batches of 1000 and reads them back equal', async () => {
      await createTable('settlement_public', 'roundtrip', columns);
      const samples = Array.from({ length: 100_000 }, (_, i) => sample(i));
      const loaded = await withConnection(warehouse, (c) =>
        c.load(
          'settlement_public',
          'roundtrip',
          columns,
          batches(
            samples.map(([input]) => input),
            1000,
          ),
        ),
      );
      expect(loaded).toEqual({ rows: 100_000, quarantined: [] });
      const rows = await withConnection(warehouse, (c) =>
        c.query(
          `select ${columns.map((c) => c.name).join(', ')} from settlement_public.roundtrip order by id`,
        ),
      );
      expect(rows.length).toBe(100_000);
      const back = rows.map((r) => columns.map((c) => r[c.name]));
      expect(back).toEqual(samples.map(([, output]) => output));
    });

    const rejectColumns = [
      column('id', { kind: 'bigint' }),
      column('location', { kind: 'varchar', length: 255 }),
      column('note', { kind: 'text' }),
    ];
    const rejectRows = (badId: number, bad: Partial<{ location: string; note: string }>): Row[] =>
      Array.from({ length: 5000 }, (_, i) => {
        const id = i + 1;
        return id === badId
          ? [id, bad.location ?? 'somewhere', bad.note ?? 'fine']
          : [id, `depot ${id} 🚚`, `scan ${id}`];
      });

    it('writes an over-long varchar and a U+0000 as NULL, naming table, column and id, and lands every row', async () => {
      await createTable('settlement_public', 'uni_tracking_info_raw', rejectColumns);
      await execute(`insert into settlement_public.uni_tracking_info_raw values (0, 'before', 'kept')`);
      const rows = rejectRows(42, { location: 'x'.repeat(300) });
      rows[4241] = [4242, 'depot', 'before\u0000after'];
      const loaded = await withConnection(warehouse, (c) =>
        c.transaction(() =>
          c.load('settlement_public', 'uni_tracking_info_raw', rejectColumns, batches(rows, 1000)),
        ),
      );
      expect(loaded).toEqual({
        rows: 5000,
        quarantined: [
          {
            type: 'BAD_VALUE',
            column: 'location',
            id: '42',
            reason: '300 characters, more than varchar(255)',
          },
          {
            type: 'BAD_VALUE',
            column: 'note',
            id: '4242',
            reason: 'holds the character U+0000, which text here cannot store',
          },
        ],
      });
      expect(await count('settlement_public.uni_tracking_info_raw')).toBe(5001);
      expect(
        await withConnection(warehouse, (c) =>
          c.query(
            'select id, location, note from settlement_public.uni_tracking_info_raw where id in (41, 42, 4242) order by id',
          ),
        ),
      ).toEqual([
        { id: 41, location: 'depot 41 🚚', note: 'scan 41' },
        { id: 42, location: null, note: 'fine' },
        { id: 4242, location: 'depot', note: null },
      ]);
      await execute('delete from settlement_public.uni_tracking_info_raw where id > 0');
    });

    it('fails a load with more than 10,000 bad values in one line, rolling the whole COPY back', async () => {
      await withConnection(warehouse, async (c) => {
        const rows: Row[] = Array.from({ length: 10_001 }, (_, i) => [i + 1, '🚚'.repeat(256), 'x']);
        const error = await c
          .load('settlement_public', 'uni_tracking_info_raw', rejectColumns, batches(rows, 1000))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect((error as Error).message).toBe(
          "cannot load settlement_public.uni_tracking_info_raw: more than 10000 values in this window cannot be stored as the source holds them, e.g. location of id 1 (256 characters, more than varchar(255)), location of id 2 (256 characters, more than varchar(255)), location of id 3 (256 characters, more than varchar(255)); fix the source's values or the column's type, then run again",
        );
        expect(await c.execute('select 1')).toBe(1);
      });
      expect(await count('settlement_public.uni_tracking_info_raw')).toBe(1);
    });

    it('surfaces a server-side COPY error as a rejection and keeps the session usable', async () => {
      const wrong = [column('id', { kind: 'text' }), column('location', { kind: 'text' })];
      await withConnection(warehouse, async (c) => {
        const rows: Row[] = Array.from({ length: 3000 }, (_, i) => [
          i === 2500 ? 'not a number' : String(i),
          'x',
        ]);
        await expect(
          c.load('settlement_public', 'uni_tracking_info_raw', wrong, batches(rows, 500)),
        ).rejects.toThrow(/invalid input syntax for type bigint: "not a number"/);
        expect(await c.query('select 2 as ok')).toEqual([{ ok: 2 }]);
        await expect(
          c.transaction(() => c.load('settlement_public', 'no_such_table', wrong, batches(rows, 500))),
        ).rejects.toThrow(/relation "settlement_public.no_such_table" does not exist/);
        expect(await c.query('select 3 as ok')).toEqual([{ ok: 3 }]);
      });
      expect(await count('settlement_public.uni_tracking_info_raw')).toBe(1);
    });

    it('rejects with the row source’s own error when it fails mid-load', async () => {
      async function* failing(): AsyncIterable<readonly Row[]> {
        yield [[100, 'a', 'b']];
        await sleep(20);
        throw new Error('source connection lost');
      }
      await withConnection(warehouse, async (c) => {
        await expect(
          c.load('settlement_public', 'uni_tracking_info_raw', rejectColumns, failing()),
        ).rejects.toThrow('source connection lost');
        expect(await c.query('select 4 as ok')).toEqual([{ ok: 4 }]);
        expect(
          await c.load('settlement_public', 'uni_tracking_info_raw', rejectColumns, batches([], 10)),
        ).toEqual({ rows: 0, quarantined: [] });
      });
      expect(await count('settlement_public.uni_tracking_info_raw')).toBe(1);
    });
  });

  describe('transaction', () => {
    it('commits on resolve and rolls back on throw', async () => {
      await execute('create table tx (id integer)');
      await withConnection(warehouse, async (c) => {
        await expect(
          c.transaction(async () => {
            await c.execute('insert into tx values (1), (2)');
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await c.transaction(() => c.execute('insert into tx values ($1)', [3]))).toBe(1);
      });
      expect(await withConnection(warehouse, (c) => c.query('select id from tx'))).toEqual([{ id: 3 }]);
    });

    it('nests with savepoints: an inner throw undoes only the inner work', async () => {
      await execute('create table nested (id integer)');
      await withConnection(warehouse, (c) =>
        c.transaction(async () => {
          await c.execute('insert into nested values (1)');
          await c
            .transaction(async () => {
              await c.execute('insert into nested values (2)');
              await c.execute('select 1/0');
            })
            .catch(() => undefined);
          await c.transaction(() => c.execute('insert into nested values (3)'));
        }),
      );
      expect(await withConnection(warehouse, (c) => c.query('select id from nested order by id'))).toEqual([
        { id: 1 },
        { id: 3 },
      ]);
    });

    it('fails instead of reporting success when a swallowed statement error aborted it', async () => {
      await execute('create table aborted (id integer)');
      await withConnection(warehouse, async (c) => {
        await expect(
          c.transaction(async () => {
            await c.execute('insert into aborted values (1)');
            await c.execute('select 1/0').catch(() => undefined);
          }),
        ).rejects.toThrow(/rolled back because a statement inside it failed/);
        expect(await c.query('select count(*) as n from aborted')).toEqual([{ n: 0 }]);
      });
    });
  });

  describe('queries', () => {
    it('returns Values: exact int8 as numbers, beyond 2^53 as strings, decimals and times as text', async () => {
      const [row] = await withConnection(warehouse, (c) =>
        c.query(
          `select count(*) as c, $1::bigint as big, 9007199254740991::bigint as safe,
                  sum(v) as total, 12.50::numeric(10,2) as dec, '2024-01-02'::date as d,
                  '2024-01-02 03:04:05.123456'::timestamp as ts, true as b, 1.5::float8 as f, null::text as nothing
             from (values (4611686018427387904::bigint), (1::bigint)) t(v)`,
          ['9007199254740993'],
        ),
      );
      expect(row).toEqual({
        c: 2,
        big: '9007199254740993',
        safe: 9007199254740991,
        total: '4611686018427387905',
        dec: '12.50',
        d: '2024-01-02',
        ts: '2024-01-02T03:04:05.123Z',
        b: true,
        f: 1.5,
        nothing: null,
      });
    });

    it('execute counts changed rows, 0 for DDL', async () => {
      expect(await execute('create table counted (id integer)')).toBe(0);
      expect(await execute('insert into counted select generate_series(1, $1::int)', [7])).toBe(7);
      expect(await execute('update counted set id = id + 1 where id > $1', [5])).toBe(2);
    });

    it('matches a batch against a large mart by probing its key index, not by hashing every row of the mart', async () => {
      // mart_uti's shape at SF 1: 300 k orders under a unique order_id index; a 15-minute batch
      // updates 20 k of them, in a work table the cycle does not ANALYZE.
      await execute(
        'create table plan_mart (id bigint, order_id varchar(64), status varchar(32), location varchar(255), update_time integer)',
      );
      await execute(
        `insert into plan_mart select g, 'ORD' || lpad(g::text, 12, '0'), 'IN_TRANSIT', repeat('x', 40), g
           from generate_series(1, 300000) g`,
      );
      await execute('create unique index plan_mart_order_id on plan_mart (order_id)');
      await execute('analyze plan_mart');
      const plan = await withConnection(warehouse, async (c) => {
        await c.execute('create temporary table plan_batch as select * from plan_mart where id % 15 = 0');
        const rows = await c.query<{ 'QUERY PLAN': string }>(
          'explain select m.*, m.ctid as ot_mart_row from plan_batch x join plan_mart m on m.order_id = x.order_id',
        );
        await c.execute('drop table plan_batch');
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan using plan_mart_order_id on plan_mart m/);
      expect(plan).not.toMatch(/Seq Scan on plan_mart/);
    });
  });

  describe('introspection', () => {
    it('describeTable round-trips the logical types of a table created from columnType', async () => {
      const columns = [
        column('id', { kind: 'bigint' }),
        column('traceseq', { kind: 'integer' }),
        column('weight', { kind: 'double' }),
        column('fee', { kind: 'decimal', precision: 18, scale: 4 }),
        column('order_id', { kind: 'varchar', length: 64 }),
        column('notes', { kind: 'text' }),
        column('resolved', { kind: 'boolean' }),
        column('day', { kind: 'date' }),
        column('detected_at', { kind: 'timestamp' }),
        column('select', { kind: 'varchar', length: 1 }),
        column('we"ird', { kind: 'text' }),
      ];
      await createTable('settlement_ods', 'described "table"', columns);
      expect(await warehouse.describeTable('settlement_ods', 'described "table"')).toEqual(columns);
      expect(await warehouse.describeTable('settlement_ods', 'absent')).toBeNull();
      expect(await warehouse.describeTable('no_such_schema', 'described "table"')).toBeNull();
    });

    it('existingSchemas lists those present, in the order asked', async () => {
      await execute('create schema if not exists order_tracking_meta');
      expect(
        await warehouse.existingSchemas([
          'nope',
          'order_tracking_meta',
          'public',
          'settlement_ods',
          'also_nope',
        ]),
      ).toEqual(['order_tracking_meta', 'public', 'settlement_ods']);
      expect(await warehouse.existingSchemas([])).toEqual([]);
    });

    it('enforcesUnique only for a valid unique index on exactly the key', async () => {
      await execute('create table settlement_ods.keyed (a varchar(8), b integer, c integer)');
      expect(await warehouse.enforcesUnique('settlement_ods', 'keyed', ['a', 'b'])).toBe(false);
      await execute('create index on settlement_ods.keyed (a, b)');
      await execute('create unique index on settlement_ods.keyed (a, b, c)');
      await execute('create unique index on settlement_ods.keyed (a, b) where c > 0');
      expect(await warehouse.enforcesUnique('settlement_ods', 'keyed', ['a', 'b'])).toBe(false);
      expect(await warehouse.enforcesUnique('settlement_ods', 'keyed', ['a', 'b', 'c'])).toBe(true);
      await execute('create unique index on settlement_ods.keyed (c) include (a, b)');
      expect(await warehouse.enforcesUnique('settlement_ods', 'keyed', ['a', 'b'])).toBe(false);
      await execute('create unique index on settlement_ods.keyed (b, a) include (c)');
      expect(await warehouse.enforcesUnique('settlement_ods', 'keyed', ['a', 'b'])).toBe(true);
      expect(await warehouse.enforcesUnique('settlement_ods', 'keyed', ['a'])).toBe(false);
      expect(await warehouse.enforcesUnique('settlement_ods', 'absent', ['a', 'b'])).toBe(false);
    });
  });

  describe('lease', () => {
    it('is exclusive across warehouses until released', async () => {
      const other = await openPostgresWarehouse(db.url);
      try {
        const first = await warehouse.tryLease('pipeline default');
        expect(first).not.toBeNull();
        const started = Date.now();
        expect(await other.tryLease('pipeline default')).toBeNull();
        expect(Date.now() - started).toBeLessThan(1000);
        const unrelated = await other.tryLease('pipeline other');
        expect(unrelated).not.toBeNull();
        await unrelated?.release();
        await first?.release();
        await first?.release(); // idempotent
        const second = await other.tryLease('pipeline default');
        expect(second).not.toBeNull();
        expect(await warehouse.tryLease('pipeline default')).toBeNull();
        await second?.release();
      } finally {
        await other.close();
      }
    });

    it('vanishes with the session that holds it', async () => {
      const other = await openPostgresWarehouse(db.url);
      try {
        const held = await warehouse.tryLease('crash test');
        expect(held).not.toBeNull();
        expect(await other.tryLease('crash test')).toBeNull();
        // Simulate the holder dying: the server ends its session.
        await execute(
          `select pg_terminate_backend(pid) from pg_locks
            where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
        );
        let retaken = null;
        for (let i = 0; i < 40 && !retaken; i++) {
          retaken = await other.tryLease('crash test');
          if (!retaken) await sleep(50);
        }
        expect(retaken).not.toBeNull();
        await retaken?.release();
        await expect(held?.release()).resolves.toBeUndefined();
      } finally {
        await other.close();
      }
    });
  });

  describe('cancel', () => {
    it('stops a running statement on the server within a couple of seconds', async () => {
      const connection: WarehouseConnection = await warehouse.connect();
      try {
        const sleeping = connection.query('select pg_sleep(30)');
        const settled = sleeping.then(
          () => 'resolved',
          (e: unknown) => e,
        );
        await sleep(300);
        const started = Date.now();
        await connection.cancel();
        const outcome = await settled;
        expect(Date.now() - started).toBeLessThan(2000);
        expect(outcome).toBeInstanceOf(Error);
        expect((outcome as Error).message).toMatch(/canceling statement due to user request/);
        expect(await connection.query('select 5 as ok')).toEqual([{ ok: 5 }]);
        await connection.cancel(); // idle: a no-op
        expect(await connection.query('select 6 as ok')).toEqual([{ ok: 6 }]);
      } finally {
        await connection.release();
      }
    });
  });

  it('cancel also stops a COPY that waits for its next batch, at once', async () => {
    await execute('create table cancelled_copy (id bigint)');
    async function* slow(): AsyncIterable<readonly Row[]> {
      // A source that is slow to produce its next batch: the rejection must not wait for it.
      for (let i = 0; i < 3; i++) {
        yield [[i]];
        await sleep(1500);
      }
    }
    await withConnection(warehouse, async (c) => {
      const loading = c.load('public', 'cancelled_copy', [column('id', { kind: 'bigint' })], slow());
      const settled = loading.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await sleep(350);
      const started = Date.now();
      await c.cancel();
      const outcome = await settled;
      expect(Date.now() - started).toBeLessThan(1000);
      expect((outcome as Error).message).toMatch(/canceling statement due to user request/);
      expect(await c.query('select count(*) as n from cancelled_copy')).toEqual([{ n: 0 }]);
    });
  });

  describe('opening', () => {
    const openError = async (url: string): Promise<Error> => {
      const error = await openPostgresWarehouse(url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      return error as Error;
    };

    it('redacts the password in displayUrl', async () => {
      const url = new URL(db.url);
      url.password = 's3cret-pw';
      const opened = await openPostgresWarehouse(url.toString());
      try {
        expect(opened.displayUrl).toBe(db.url.replace('postgres@', 'postgres:***@'));
      } finally {
        await opened.close();
      }
    });

    it('names an unreachable server in one line without the password', async () => {
      const port = await freePort();
      const error = await openError(`postgres://postgres:s3cret-pw@127.0.0.1:${port}/db`);
      expect(error.message).toBe(
        `warehouse postgres://postgres:***@127.0.0.1:${port}/db is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
    });

    it('names an unknown database in one line without the password', async () => {
      const url = new URL(db.url);
      url.password = 's3cret-pw';
      url.pathname = '/ot_missing_database';
      const error = await openError(url.toString());
      expect(error.message).toBe(
        `warehouse ${url.toString().replace(':s3cret-pw@', ':***@')} names a database that does not exist: database "ot_missing_database" does not exist`,
      );
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('s3cret');
    });
  });
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
