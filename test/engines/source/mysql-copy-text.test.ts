import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Source } from '../../../src/engines/source/source.js';
import type { Column, Row, Value } from '../../../src/engines/types.js';
import { openPostgresWarehouse } from '../../../src/engines/warehouse/postgres/postgres-warehouse.js';
import {
  withConnection,
  type LoadResult,
  type ResultRow,
  type Warehouse,
} from '../../../src/engines/warehouse/warehouse.js';
import { createTestDatabase, pgUp, type TestDatabase } from '../warehouse/postgres/test-database.js';
import { mariadbHarness, mysqlUp } from './harness.js';

// Every kind of column the text protocol sends, each read the way the driver would read it.
const wireDdl = `create table ot_wire (
  id BIGINT UNSIGNED PRIMARY KEY,
  tiny TINYINT, small SMALLINT UNSIGNED, zf INT(5) ZEROFILL, yr YEAR,
  big BIGINT, ubig BIGINT UNSIGNED,
  amount DECIMAL(20,6), ratio DOUBLE, f FLOAT,
  day DATE, at DATETIME(6), ts TIMESTAMP(3) NULL, dur TIME,
  code CHAR(4), label VARCHAR(40), note MEDIUMTEXT, latin VARCHAR(20) CHARACTER SET latin1,
  kind ENUM('a','b'), tags SET('x','y'), doc JSON,
  bytes VARBINARY(16), blobby BLOB, flag BIT(1), mask BIT(64),
  place POINT
) character set utf8mb4`;

const tricky = 'tab\there, line\nbreak\r\n, back\\slash, \\N, 订单-😀, e\u0301';

const doc = '{"a": "t\\tb", "n": [1, 2]}';

const everything = { column: 'id', from: null, to: null } as const;
const append: readonly Value[] = [7, '2026-11-28 12:00:00'];
const loadColumns: Column[] = [
  { name: '_batch_id', sourceName: '_batch_id', type: { kind: 'bigint' } },
  { name: '_loaded_at', sourceName: '_loaded_at', type: { kind: 'timestamp' } },
];

async function* withAppend(rows: AsyncIterable<readonly Row[]>): AsyncIterable<readonly Row[]> {
  for await (const batch of rows) {
    for (const row of batch) (row as Row).push(...append);
    yield batch;
  }
}

describe.skipIf(!(mysqlUp && pgUp) && process.env.CI !== 'true')(
  'MySQL rows as COPY text, straight from the wire, into PostgreSQL',
  () => {
    const mysql = mariadbHarness();
    let db: TestDatabase;
    let source: Source;
    let warehouse: Warehouse;

    beforeAll(async () => {
      await mysql.setup();
      db = await createTestDatabase();
      source = await mysql.open();
      warehouse = await openPostgresWarehouse(db.url);
    });

    afterAll(async () => {
      await source?.close();
      await warehouse?.close();
      await mysql.teardown();
      await db?.drop();
    });

    const createTable = async (name: string, columns: readonly Column[]): Promise<void> => {
      const { quote, columnType } = warehouse.dialect;
      await withConnection(warehouse, (c) =>
        c.execute(
          `create table ${name} (${columns.map((x) => `${quote(x.name)} ${columnType(x.type)}`).join(', ')})`,
        ),
      );
    };

    /** Loads `table` into `target` by rows (the driver's values) or as COPY text. */
    const load = async (table: string, target: string, how: 'rows' | 'text'): Promise<LoadResult> => {
      const columns = (await source.describeTable(table)) as Column[];
      await createTable(target, [...columns, ...loadColumns]);
      const snapshot = await source.snapshot();
      try {
        return await withConnection(warehouse, (c) =>
          c.transaction(() =>
            how === 'rows'
              ? c.load(
                  'public',
                  target,
                  [...columns, ...loadColumns],
                  withAppend(snapshot.stream(table, columns, everything, 500)),
                )
              : c.loadCopyText!(
                  'public',
                  target,
                  [...columns, ...loadColumns],
                  snapshot.streamCopyText!(table, columns, everything, 500, append),
                ),
          ),
        );
      } finally {
        await snapshot.close();
      }
    };

    const query = <T extends ResultRow>(sql: string): Promise<T[]> =>
      withConnection(warehouse, (c) => c.query<T>(sql));

    it('lands every type exactly as the row path does, escapes included, across many arenas', async () => {
      await mysql.exec(wireDdl);
      await mysql.exec(
        `insert into ot_wire values (1, -128, 65535, 42, 2024, -9007199254740993, 9223372036854775807,
           -12345678901234.123456, 0.1, 1.5, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.678',
           '-838:59:59', 'ab', ?, ?, 'café', 'b', 'x,y', ?,
           x'00090a5cff', x'0d0a', b'1', b'111111111111111111111111111111111111111111111111111111111111111',
           ST_GeomFromText('POINT(1.5 -2)'))`,
        [tricky.slice(0, 40), tricky, doc],
      );
      await mysql.exec('insert into ot_wire (id) values (2)');
      await mysql.exec("insert into ot_wire (id, label, note) values (3, '', ?)", ['x\t'.repeat(150_000)]);
      await mysql.insertRows(
        'ot_wire',
        ['id', 'zf', 'ratio', 'f', 'label', 'note', 'bytes'],
        Array.from({ length: 5_000 }, (_, i) => [
          10 + i,
          i,
          i / 7,
          i / 3,
          `label ${i}\\`,
          `${'n'.repeat(i % 300)}\n${i}`,
          Buffer.from([i % 256, 0]),
        ]),
      );

      expect(await load('ot_wire', 'via_rows', 'rows')).toEqual({ rows: 5_003, quarantined: [] });
      expect(await load('ot_wire', 'via_text', 'text')).toEqual({ rows: 5_003, quarantined: [] });

      // Doubles aside: mysql2's own float parser is an ulp off for some (90.28571428571429 read as
      // …428), where the text path keeps the server's digits.
      const others =
        'id, tiny, small, zf, yr, big, ubig, amount, f, day, at, ts, dur, code, label, note, latin, kind, tags, doc, bytes, blobby, flag, mask, place, _batch_id, _loaded_at';
      const differ = await query<{ n: number }>(
        `select count(*)::int as n from ((select ${others} from via_rows except all select ${others} from via_text)
           union all (select ${others} from via_text except all select ${others} from via_rows)) d`,
      );
      expect(differ[0]?.n).toBe(0);
      const [exact] = await query<{ n: number; off: number }>(
        `select count(*)::int as n, count(*) filter (where ratio <> (id - 10)::float8 / 7)::int as off from via_text where id >= 10`,
      );
      expect(exact).toEqual({ n: 5_000, off: 0 });
      const [first] = await query<ResultRow>(
        `select zf, ubig::text, amount::text, ts::text, dur, label, note, latin, doc, bytes, blobby, flag, mask::text, place, _batch_id
           from via_text where id = 1`,
      );
      expect(first).toEqual({
        zf: 42,
        ubig: '9223372036854775807',
        amount: '-12345678901234.123456',
        ts: '2024-01-02 03:04:05.678',
        dur: '-838:59:59',
        label: tricky.slice(0, 40),
        note: tricky,
        latin: 'café',
        doc,
        bytes: '00090a5cff',
        blobby: '0d0a',
        flag: 1,
        mask: '9223372036854775807',
        place: '{"x":1.5,"y":-2}',
        _batch_id: 7,
      });
      const [nulls] = await query<{ n: number }>(
        `select num_nulls(tiny, small, zf, yr, big, ubig, amount, ratio, f, day, at, ts, dur, code, label, note, latin,
           kind, tags, doc, bytes, blobby, flag, mask, place)::int as n from via_text where id = 2`,
      );
      expect(nulls?.n).toBe(25);
      const [long] = await query<{ note: string }>(`select note from via_text where id = 3`);
      expect(long?.note).toBe('x\t'.repeat(150_000));
    });

    it('writes a U+0000 in text as NULL and names it, landing every row, on both paths', async () => {
      await mysql.exec('create table ot_nul (id BIGINT PRIMARY KEY, note TEXT)');
      // The bad row comes after three batches have gone to the server.
      await mysql.insertRows(
        'ot_nul',
        ['id', 'note'],
        [
          ...Array.from({ length: 1_500 }, (_, i) => [i + 1, `fine ${i}`]),
          [5_000, 'a\u0000b'],
          [5_001, 'after'],
        ],
      );
      const nul = {
        type: 'BAD_VALUE',
        column: 'note',
        id: '5000',
        reason: 'holds the character U+0000, which text here cannot store',
      };
      expect(await load('ot_nul', 'nul_text', 'text')).toEqual({ rows: 1_502, quarantined: [nul] });
      expect(await load('ot_nul', 'nul_rows', 'rows')).toEqual({ rows: 1_502, quarantined: [nul] });
      for (const target of ['nul_text', 'nul_rows'])
        expect(await query(`select id::int as id, note from ${target} where id >= 5000 order by id`)).toEqual(
          [
            { id: 5_000, note: null },
            { id: 5_001, note: 'after' },
          ],
        );
    });
  },
);
