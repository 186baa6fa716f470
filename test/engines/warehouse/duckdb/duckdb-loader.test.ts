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
    expect(await c.load('raw', 't', columns, batches(sizes))).toBe(total);
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
});
