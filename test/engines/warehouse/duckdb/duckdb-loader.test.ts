import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column, Row } from '../../../../src/engines/types.js';
import { openDuckdbWarehouse } from '../../../../src/engines/warehouse/duckdb/duckdb-warehouse.js';
import type { Warehouse, WarehouseConnection } from '../../../../src/engines/warehouse/warehouse.js';

const columns: Column[] = [
  { name: 'id', sourceName: 'id', type: { kind: 'bigint' } },
  { name: 'order_id', sourceName: 'order_id', type: { kind: 'varchar', length: 64 } },
  { name: 'seq', sourceName: 'seq', type: { kind: 'integer' } },
  { name: 'amount', sourceName: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 } },
  { name: 'seen_at', sourceName: 'seen_at', type: { kind: 'timestamp' } },
];

/** Row `i`: every value NULL on some rows, so a chunk's NULLs and the next chunk's values alternate. */
const row = (i: number): Row => [
  i,
  i % 3 === 0 ? null : `order-${i}-${'x'.repeat(i % 40)}`,
  i % 5 === 0 ? null : i % 1000,
  i % 7 === 0 ? null : `${i}.${String(i % 100).padStart(2, '0')}`,
  i % 11 === 0 ? null : `2026-01-01 00:00:${String(i % 60).padStart(2, '0')}`,
];

async function* batches(sizes: readonly number[]): AsyncIterable<Row[]> {
  let next = 1;
  for (const size of sizes) {
    yield Array.from({ length: size }, () => row(next++));
  }
}

describe('DuckDB appender load', () => {
  let warehouse: Warehouse;
  let c: WarehouseConnection;

  beforeAll(async () => {
    warehouse = await openDuckdbWarehouse(':memory:', 'duckdb::memory:');
    c = await warehouse.connect();
    await c.execute('create schema raw');
    await c.execute(
      'create table raw.t (id bigint, order_id varchar, seq integer, amount decimal(12,2), seen_at timestamp)',
    );
  });

  afterAll(async () => {
    await c?.release();
    await warehouse?.close();
  });

  it('lands every value of batches that span, and fall short of, whole data chunks', async () => {
    // 5000 rows fill two 2048-row chunks and part of a third; the later, smaller batches reuse
    // a chunk that held longer batches' values and NULLs.
    const sizes = [5000, 3, 2048, 1, 4100];
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(await c.load('raw', 't', columns, batches(sizes))).toEqual({ rows: total, quarantined: [] });
    const landed = await c.query<{
      id: number;
      order_id: string | null;
      seq: number | null;
      amount: string | null;
      seen_at: string | null;
    }>(
      `select id, order_id, seq, cast(amount as varchar) as amount, strftime(seen_at, '%Y-%m-%d %H:%M:%S') as seen_at
         from raw.t order by id`,
    );
    expect(landed).toHaveLength(total);
    landed.forEach((r, k) => {
      const [id, orderId, seq, amount, seenAt] = row(k + 1);
      expect([r.id, r.order_id, r.seq, r.amount, r.seen_at]).toEqual([id, orderId, seq, amount, seenAt]);
    });
  });

  it('appends a value its column cannot hold as NULL, naming column and id, and lands the rest', async () => {
    await c.execute(
      'create table raw.typed (id bigint, n integer, amount decimal(10,2), "at" timestamp, day date, note varchar)',
    );
    const typed: Column[] = [
      { name: 'id', sourceName: 'id', type: { kind: 'bigint' } },
      { name: 'n', sourceName: 'n', type: { kind: 'integer' } },
      { name: 'amount', sourceName: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 } },
      { name: 'at', sourceName: 'at', type: { kind: 'timestamp' } },
      { name: 'day', sourceName: 'day', type: { kind: 'date' } },
      { name: 'note', sourceName: 'note', type: { kind: 'text' } },
    ];
    async function* rows(): AsyncIterable<Row[]> {
      yield [
        [1, 3_000_000_000, '123456789012.345', '0000-00-00 00:00:00', '2024-02-29', 'K\uFFFDln'],
        [2, 7, 'abc', '2024-01-02 03:04:05', '2023-02-29', 'fine'],
        ['18446744073709551615', 1.5, '99999999.99', 'soon', null, '\uFFFD \uFFFD'],
        [4, -2_147_483_648, '-0.5', '2024-01-02T03:04:05Z', '2024-01-02', 'a\u0000b'],
      ];
    }
    const loaded = await c.load('raw', 'typed', typed, rows());
    expect(loaded.rows).toBe(4);
    expect(loaded.quarantined.map((q) => `${q.type} ${q.column} ${q.id}: ${q.reason}`)).toEqual([
      'BAD_VALUE id 18446744073709551615: "18446744073709551615" is out of range for bigint',
      'BAD_VALUE n 1: 3000000000 is out of range for integer',
      'BAD_VALUE n 18446744073709551615: 1.5 is not an integer',
      'BAD_VALUE amount 1: "123456789012.345" does not fit decimal(10,2) (8 digits before the point)',
      'BAD_VALUE amount 2: "abc" is not a decimal(10,2)',
      'BAD_VALUE at 1: "0000-00-00 00:00:00" is a zero date',
      'BAD_VALUE at 18446744073709551615: "soon" is not a timestamp',
      'BAD_VALUE day 2: "2023-02-29" is not a valid date',
      'INVALID_UTF8 note 1: bytes that are not UTF-8, replaced with U+FFFD',
      'INVALID_UTF8 note 18446744073709551615: bytes that are not UTF-8, replaced with U+FFFD',
    ]);
    expect(
      await c.query(
        `select id, n, cast(amount as varchar) as amount, strftime("at", '%Y-%m-%d %H:%M:%S') as "at",
                cast(day as varchar) as day, note from raw.typed order by id nulls last`,
      ),
    ).toEqual([
      { id: 1, n: null, amount: null, at: null, day: '2024-02-29', note: 'K\uFFFDln' },
      { id: 2, n: 7, amount: null, at: '2024-01-02 03:04:05', day: null, note: 'fine' },
      {
        id: 4,
        n: -2_147_483_648,
        amount: '-0.50',
        at: '2024-01-02 03:04:05',
        day: '2024-01-02',
        note: 'a\u0000b',
      },
      { id: null, n: null, amount: '99999999.99', at: null, day: null, note: '\uFFFD \uFFFD' },
    ]);
  });

  it('fails a load with more than 10,000 bad values in one line, naming the first ones', async () => {
    await c.execute('create table raw.many (id bigint, n integer)');
    const many: Column[] = [
      { name: 'id', sourceName: 'id', type: { kind: 'bigint' } },
      { name: 'n', sourceName: 'n', type: { kind: 'integer' } },
    ];
    async function* rows(): AsyncIterable<Row[]> {
      for (let b = 0; b < 11; b++) yield Array.from({ length: 1000 }, (_, i) => [b * 1000 + i + 1, 'x']);
    }
    await expect(c.transaction(() => c.load('raw', 'many', many, rows()))).rejects.toThrow(
      new Error(
        'cannot load raw.many: more than 10000 values in this window cannot be stored as the source holds them, e.g. n of id 1 ("x" is not an integer), n of id 2 ("x" is not an integer), n of id 3 ("x" is not an integer); fix the source\'s values or the column\'s type, then run again',
      ),
    );
    expect(await c.query('select count(*) as n from raw.many')).toEqual([{ n: 0 }]);
  });
});
