import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Source, SourceSnapshot } from '../../../src/engines/source/source.js';
import type { Column, Row } from '../../../src/engines/types.js';
import { engines } from './harness.js';

// One DDL for both engines: SQLite accepts MySQL's type names and keeps them as declared.
const typesDdl = `create table ot_types (
  id BIGINT PRIMARY KEY,
  order_id VARCHAR(64) NULL,
  traceSeq INT,
  pathTime INT,
  amount DECIMAL(12,2),
  ratio DOUBLE,
  created_at DATETIME,
  day DATE,
  note TEXT,
  payload BLOB,
  big BIGINT
)`;

const eventsDdl = (table: string): string =>
  `create table ${table} (id BIGINT PRIMARY KEY, order_id VARCHAR(64) NULL, traceSeq INT, pathTime INT, note TEXT)`;
const eventColumns = ['id', 'order_id', 'traceSeq', 'pathTime', 'note'] as const;
const eventRow = (id: number): unknown[] => [
  id,
  `order-${id % 977}`,
  id % 7,
  1_700_000_000 + id,
  `scan ${id}`,
];
const eventRows = (from: number, to: number): unknown[][] =>
  Array.from({ length: to - from + 1 }, (_, i) => eventRow(from + i));

const everything = { column: 'id', from: null, to: null } as const;

const collect = async (rows: AsyncIterable<readonly Row[]>): Promise<{ rows: Row[]; batches: number[] }> => {
  const all: Row[] = [];
  const batches: number[] = [];
  for await (const batch of rows) {
    batches.push(batch.length);
    all.push(...batch);
  }
  return { rows: all, batches };
};

for (const { harness, run } of engines()) {
  describe.skipIf(!run)(`source on ${harness.name}`, () => {
    let source: Source;

    beforeAll(async () => {
      await harness.setup();
      await harness.exec(typesDdl);
      await harness.exec(eventsDdl('ot_events'));
      await harness.insertRows('ot_events', eventColumns, eventRows(1, 1_000));
      source = await harness.open();
    });

    afterAll(async () => {
      await source?.close();
      await harness.teardown();
    });

    const withSnapshot = async <T>(fn: (snapshot: SourceSnapshot) => Promise<T>): Promise<T> => {
      const snapshot = await source.snapshot();
      try {
        return await fn(snapshot);
      } finally {
        await snapshot.close();
      }
    };

    it('describes columns in source order, lower-cased, keeping the source spelling', async () => {
      const columns = await source.describeTable('ot_types');
      // SQLite's INT holds 64-bit integers (INTEGER affinity); MySQL's holds 32 bits.
      const int = harness.name === 'sqlite' ? 'bigint' : 'integer';
      expect(columns).toEqual([
        { name: 'id', sourceName: 'id', type: { kind: 'bigint' } },
        { name: 'order_id', sourceName: 'order_id', type: { kind: 'varchar', length: 64 } },
        { name: 'traceseq', sourceName: 'traceSeq', type: { kind: int } },
        { name: 'pathtime', sourceName: 'pathTime', type: { kind: int } },
        { name: 'amount', sourceName: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 } },
        { name: 'ratio', sourceName: 'ratio', type: { kind: 'double' } },
        { name: 'created_at', sourceName: 'created_at', type: { kind: 'timestamp' } },
        { name: 'day', sourceName: 'day', type: { kind: 'date' } },
        { name: 'note', sourceName: 'note', type: { kind: 'text' } },
        { name: 'payload', sourceName: 'payload', type: { kind: 'text' } },
        { name: 'big', sourceName: 'big', type: { kind: 'bigint' } },
      ]);
      expect(await source.describeTable('ot_absent')).toBeNull();
    });

    it('returns max of a column, or null on an empty table', async () => {
      expect(await source.max('ot_events', 'id')).toBe(1_000n);
      expect(await source.max('ot_events', 'pathTime')).toBe(1_700_001_000n);
      await harness.exec(eventsDdl('ot_empty'));
      expect(await source.max('ot_empty', 'id')).toBeNull();
    });

    it("gives a window's greatest cursor value and its strays' greatest id, exactly, in the snapshot", async () => {
      await harness.exec('create table ot_maxima (id BIGINT PRIMARY KEY, pathTime BIGINT NULL)');
      await harness.insertRows(
        'ot_maxima',
        ['id', 'pathTime'],
        [
          ['9007199254740993', '9007199254740995'],
          ['9007199254740994', '9007199254740997'],
          ['9007199254740995', null],
          ['9007199254740996', '5'],
          ['9007199254740997', '9007199254741999'],
        ],
      );
      const window = { column: 'pathTime', from: 9_007_199_254_740_990n, to: 9_007_199_254_740_998n };
      const strays = { floor: 100n, idAbove: 9_007_199_254_740_993n };
      await withSnapshot(async (s) => {
        // A row committed after the snapshot opened is not part of the window's top.
        await harness.exec('insert into ot_maxima (id, pathTime) values (?, ?)', ['9007199254740998', null]);
        expect(await s.maxima('ot_maxima', { ...window, strays })).toEqual({
          max: 9_007_199_254_740_997n,
          strayMax: 9_007_199_254_740_996n,
        });
      });
      await withSnapshot(async (s) => {
        expect(await s.maxima('ot_maxima', window)).toEqual({ max: 9_007_199_254_740_997n, strayMax: null });
        expect(
          await s.maxima('ot_maxima', { column: 'pathTime', from: 9_007_199_254_742_000n, to: null }),
        ).toEqual({ max: null, strayMax: null });
        expect(await s.maxima('ot_maxima', { ...window, strays: { floor: null, idAbove: null } })).toEqual({
          max: 9_007_199_254_740_997n,
          strayMax: 9_007_199_254_740_998n,
        });
      });
    });

    it('brings back Unicode, NULLs, big integers, decimals, dates and bytes intact', async () => {
      const note = 'e\u0301 n\u0303 👩🏽‍💻 中文字符 𝒳 🎉';
      await harness.exec(
        `insert into ot_types (id, order_id, traceSeq, pathTime, amount, ratio, created_at, day, note, payload, big)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          1,
          '订单-😀-1',
          3,
          1_700_000_000,
          '12.50',
          0.25,
          '2024-01-02 03:04:05',
          '2024-01-02',
          note,
          Buffer.from('deadbeef', 'hex'),
          '9007199254740993',
        ],
      );
      await harness.exec('insert into ot_types (id) values (?)', [2]);
      const columns = (await source.describeTable('ot_types')) as Column[];
      const { rows } = await withSnapshot((s) => collect(s.stream('ot_types', columns, everything, 10)));
      expect(rows).toEqual([
        [
          1,
          '订单-😀-1',
          3,
          1_700_000_000,
          '12.50',
          0.25,
          '2024-01-02 03:04:05',
          '2024-01-02',
          note,
          'deadbeef',
          '9007199254740993',
        ],
        [2, null, null, null, null, null, null, null, null, null, null],
      ]);
      // Combining marks stay decomposed: nothing normalizes the text on the way.
      expect((rows[0]![8] as string).normalize('NFC')).not.toBe(rows[0]![8]);
    });

    it('streams positional rows in the order of the columns asked for, within the range', async () => {
      const all = (await source.describeTable('ot_events')) as Column[];
      const byName = (name: string): Column => all.find((c) => c.name === name)!;
      const columns = [byName('pathtime'), byName('id'), byName('traceseq')];
      await withSnapshot(async (s) => {
        const { rows } = await collect(
          s.stream('ot_events', columns, { column: 'id', from: 10n, to: 13n }, 2),
        );
        expect(rows.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
          [1_700_000_011, 11, 11 % 7],
          [1_700_000_012, 12, 12 % 7],
          [1_700_000_013, 13, 13 % 7],
        ]);
        expect(await s.count('ot_events', { column: 'id', from: 10n, to: 13n })).toBe(3);
        expect(await s.count('ot_events', { column: 'id', from: null, to: 5n })).toBe(5);
        expect(await s.count('ot_events', { column: 'pathTime', from: 1700000990n, to: 1800000000n })).toBe(
          10,
        );
      });
    });

    it('counts the window asked for right after streaming another one', async () => {
      const columns = (await source.describeTable('ot_events')) as Column[];
      const streamed = { column: 'id', from: 10n, to: 13n };
      await withSnapshot(async (s) => {
        await collect(s.stream('ot_events', columns, streamed, 2));
        expect(await s.count('ot_events', { column: 'id', from: 10n, to: 14n })).toBe(4);
        await collect(s.stream('ot_events', columns, streamed, 2));
        expect(await s.count('ot_events', { column: 'pathTime', from: 1700000010n, to: 1700000015n })).toBe(
          5,
        );
        await collect(s.stream('ot_events', columns, { column: 'id', from: 20n, to: 10n }, 2));
        expect(await s.count('ot_events', streamed)).toBe(3);
        // Counted while the last batch is in hand, then again once the stream has finished.
        let inHand = -1;
        for await (const batch of s.stream('ot_events', columns, streamed, 2))
          if (batch.length < 2) inHand = await s.count('ot_events', streamed);
        expect(inHand).toBe(3);
        expect(await s.count('ot_events', streamed)).toBe(3);
      });
    });

    it('keeps count and stream consistent while another session inserts', async () => {
      const columns = (await source.describeTable('ot_events')) as Column[];
      const snapshot = await source.snapshot();
      try {
        expect(await snapshot.count('ot_events', everything)).toBe(1_000);
        let inserted = false;
        let seen = 0;
        for await (const batch of snapshot.stream('ot_events', columns, everything, 100)) {
          seen += batch.length;
          if (!inserted) {
            // Rows committed mid-stream, inside the window being read.
            await harness.insertRows('ot_events', eventColumns, eventRows(1_001, 1_100));
            await harness.exec('delete from ot_events where id <= ?', [10]);
            inserted = true;
          }
        }
        expect(seen).toBe(1_000);
        expect(await snapshot.count('ot_events', everything)).toBe(1_000);
      } finally {
        await snapshot.close();
      }
      await withSnapshot(async (s) => {
        expect(await s.count('ot_events', everything)).toBe(1_090);
        const { rows } = await collect(s.stream('ot_events', columns, everything, 1_000));
        expect(rows).toHaveLength(1_090);
      });
      expect(await source.max('ot_events', 'id')).toBe(1_100n);
    });

    it('streams 200k rows in batches of at most 1000, bounded by the batch size', async () => {
      const total = 200_000;
      await harness.exec(eventsDdl('ot_big'));
      await harness.insertRows('ot_big', eventColumns, eventRows(1, total));
      const columns = (await source.describeTable('ot_big')) as Column[];
      await withSnapshot(async (s) => {
        expect(await s.count('ot_big', everything)).toBe(total);
        const started = performance.now();
        let rows = 0;
        let largest = 0;
        let batches = 0;
        let idSum = 0;
        for await (const batch of s.stream('ot_big', columns, everything, 1_000)) {
          batches++;
          rows += batch.length;
          largest = Math.max(largest, batch.length);
          for (const row of batch) idSum += row[0] as number;
        }
        const seconds = (performance.now() - started) / 1_000;
        console.info(
          `${harness.name}: streamed ${rows} rows in ${seconds.toFixed(2)} s = ${Math.round(rows / seconds)} rows/s`,
        );
        expect(largest).toBeLessThanOrEqual(1_000);
        expect(batches).toBe(total / 1_000);
        expect(rows).toBe(total);
        expect(idSum).toBe((total * (total + 1)) / 2);
      });
    });

    it('ends an abandoned stream without hanging the snapshot or the source', async () => {
      await harness.exec(eventsDdl('ot_abandon'));
      await harness.insertRows('ot_abandon', eventColumns, eventRows(1, 50_000));
      const columns = (await source.describeTable('ot_abandon')) as Column[];
      for (const stop of ['break', 'throw'] as const) {
        const snapshot = await source.snapshot();
        try {
          const consume = async (): Promise<void> => {
            for await (const batch of snapshot.stream('ot_abandon', columns, everything, 100)) {
              expect(batch).toHaveLength(100);
              if (stop === 'break') break;
              throw new Error('consumer failed');
            }
          };
          if (stop === 'throw') await expect(consume()).rejects.toThrow('consumer failed');
          else await consume();
          if (harness.snapshotSurvivesAbandonedStream)
            expect(await snapshot.count('ot_abandon', everything)).toBe(50_000);
          else await expect(snapshot.count('ot_abandon', everything)).rejects.toThrow(/snapshot is gone/);
        } finally {
          await snapshot.close();
        }
      }
      // The source and fresh snapshots still work.
      await withSnapshot(async (s) => expect(await s.count('ot_abandon', everything)).toBe(50_000));
      expect(await source.max('ot_abandon', 'id')).toBe(50_000n);
    });

    it('lets timers run while a consumer that never waits on I/O reads a long stream', async () => {
      // A task's timeout and the scheduler's signals are timers and events: a stream that never
      // returned to the event loop would hold them off until the whole load ended.
      await harness.exec(eventsDdl('ot_ticks'));
      await harness.insertRows('ot_ticks', eventColumns, eventRows(1, 50_000));
      const columns = (await source.describeTable('ot_ticks')) as Column[];
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      let batches = 0;
      let ticksAtLastBatch = 0;
      try {
        await withSnapshot(async (s) => {
          for await (const batch of s.stream('ot_ticks', columns, everything, 1_000)) {
            expect(batch.length).toBeGreaterThan(0);
            batches++;
            ticksAtLastBatch = ticks;
          }
        });
      } finally {
        clearInterval(timer);
      }
      expect(batches).toBe(50);
      // The timer fired between batches, not only once the stream had ended.
      expect(ticksAtLastBatch).toBeGreaterThan(0);
    });

    it('refuses a second statement while a stream is open, instead of queueing behind it', async () => {
      const columns = (await source.describeTable('ot_events')) as Column[];
      await withSnapshot(async (s) => {
        const rows = s.stream('ot_events', columns, everything, 10)[Symbol.asyncIterator]();
        await rows.next();
        await expect(s.count('ot_events', everything)).rejects.toThrow(/still streaming/);
        await rows.return?.();
        if (harness.snapshotSurvivesAbandonedStream)
          expect(await s.count('ot_events', { column: 'id', from: null, to: 100n })).toBeGreaterThan(0);
      });
    });

    it('names the table and source when a read fails', async () => {
      await withSnapshot(async (s) => {
        await expect(s.count('ot_missing', everything)).rejects.toThrow(
          /counting ot_missing from source .*ot_missing/,
        );
        const columns = (await source.describeTable('ot_events')) as Column[];
        await expect(collect(s.stream('ot_missing', columns, everything, 10))).rejects.toThrow(
          /reading ot_missing from source/,
        );
        // A failed statement leaves the snapshot usable.
        expect(await s.count('ot_events', { column: 'id', from: null, to: 100n })).toBeGreaterThan(0);
      });
    });

    it('quotes identifiers, doubling embedded quotes', async () => {
      await harness.exec(
        harness.name === 'sqlite'
          ? 'create table "odd`na""me" ("we`ird""col" BIGINT PRIMARY KEY)'
          : 'create table `odd``na"me` (`we``ird"col` BIGINT PRIMARY KEY)',
      );
      await harness.exec(
        harness.name === 'sqlite'
          ? 'insert into "odd`na""me" values (1), (2)'
          : 'insert into `odd``na"me` values (1), (2)',
      );
      const table = 'odd`na"me';
      const columns = (await source.describeTable(table)) as Column[];
      expect(columns.map((c) => c.sourceName)).toEqual(['we`ird"col']);
      expect(await source.max(table, 'we`ird"col')).toBe(2n);
      await withSnapshot(async (s) => {
        expect(await s.count(table, { column: 'we`ird"col', from: 1n, to: 2n })).toBe(1);
        const range = { column: 'we`ird"col', from: null, to: 10n };
        expect((await collect(s.stream(table, columns, range, 5))).rows).toEqual([[1], [2]]);
      });
    });
  });
}
