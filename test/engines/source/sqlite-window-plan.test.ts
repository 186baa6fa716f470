import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CursorRange, Source } from '../../../src/engines/source/source.js';
import { openSqliteSource } from '../../../src/engines/source/sqlite/sqlite-source.js';
import { countSql, maximaSql, selectSql } from '../../../src/engines/source/sqlite/sqlite-sql.js';
import type { Row } from '../../../src/engines/types.js';

// A time-cursor table the way the generator and a MySQL dump make it (NOT NULL, indexed), and one
// whose cursor column can hold NULL. Every 2,500th row is a stray: below the floor, or NULL.
const rows = 20_000;
const floor = 1_000n;
const timeOf = (id: number, nullable: boolean): number | null =>
  id % 2_500 === 0 ? (nullable && id % 5_000 === 0 ? null : 7) : 1_000_000 + id;
const tables = { not_null: false, nullable: true } as const;

const columns = [
  { name: 'id', sourceName: 'id', type: { kind: 'bigint' } },
  { name: 'update_time', sourceName: 'update_time', type: { kind: 'bigint' } },
] as const;

describe('SQLite source: a time window and its strays', () => {
  let dir: string;
  let path: string;
  let source: Source;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ot-sqlite-plan-'));
    path = join(dir, 'source.sqlite');
    const db = new Database(path);
    for (const [table, nullable] of Object.entries(tables)) {
      db.exec(`create table ${table} (id INTEGER PRIMARY KEY, update_time INT ${nullable ? 'NULL' : 'NOT NULL'});
               create index ${table}_time on ${table} (update_time)`);
      const insert = db.prepare(`insert into ${table} (id, update_time) values (?, ?)`);
      db.transaction(() => {
        for (let id = 1; id <= rows; id++) insert.run(id, timeOf(id, nullable));
      })();
    }
    db.close();
    source = await openSqliteSource(path);
  });

  afterAll(async () => {
    await source?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The last 1,000 rows' window; strays above id 9,000 (a later cycle) or all of them (the first).
  const windows = (idAbove: bigint | null): CursorRange => ({
    column: 'update_time',
    from: 1_000_000n + BigInt(rows - 1_000),
    to: 1_000_000n + BigInt(rows),
    strays: { floor, idAbove },
  });

  const expected = (nullable: boolean, range: CursorRange): number[] => {
    const ids: number[] = [];
    for (let id = 1; id <= rows; id++) {
      const t = timeOf(id, nullable);
      const inWindow = t !== null && BigInt(t) > range.from! && BigInt(t) <= range.to!;
      const stray = (t === null || BigInt(t) < floor) && BigInt(id) > (range.strays!.idAbove ?? 0n);
      if (inWindow || stray) ids.push(id);
    }
    return ids;
  };

  for (const [table, nullable] of Object.entries(tables))
    for (const idAbove of [null, 9_000n])
      it(`reads ${table}'s window and its strays${idAbove === null ? '' : ' above a mark'}, all of them`, async () => {
        const range = windows(idAbove);
        const want = expected(nullable, range);
        const snapshot = await source.snapshot();
        try {
          const read: number[] = [];
          for await (const batch of snapshot.stream(table, [...columns], range, 500))
            read.push(...batch.map((r: Row) => Number(r[0])));
          expect(read.sort((a, b) => a - b)).toEqual(want);
          expect(await snapshot.count(table, range)).toBe(want.length);
          const strays = want.filter((id) => timeOf(id, nullable) === null || timeOf(id, nullable)! < floor);
          expect(await snapshot.maxima(table, range)).toEqual({
            max: 1_000_000n + BigInt(rows - 1),
            strayMax: BigInt(strays.at(-1)!),
          });
        } finally {
          await snapshot.close();
        }
      });

  // A window's cost is its rows, not the table's.
  for (const [table, nullable] of Object.entries(tables))
    it(`plans ${table}'s window, count and maxima on the time index, never a scan of the table`, () => {
      const db = new Database(path, { readonly: true });
      try {
        for (const idAbove of [null, 9_000n]) {
          const range = windows(idAbove);
          for (const { sql, values } of [
            selectSql(table, ['id', 'update_time'], range, nullable),
            countSql(table, range, nullable),
            maximaSql(table, range, nullable),
          ]) {
            const plan = (db.prepare(`explain query plan ${sql}`).all(...values) as { detail: string }[]).map(
              (r) => r.detail,
            );
            // Every read of the table is a range of the time index: not a scan, not a walk of the
            // rowids (from the stray mark up, or down from the top for `max(id)`).
            const reads = plan.filter((d) => /^(SCAN|SEARCH) /.test(d) && d !== 'SCAN CONSTANT ROW');
            expect(reads.length).toBeGreaterThan(0);
            expect(
              reads.filter(
                (d) =>
                  !d.includes(`USING COVERING INDEX ${table}_time (`) &&
                  !d.includes(`USING INDEX ${table}_time (`),
              ),
            ).toEqual([]);
          }
        }
      } finally {
        db.close();
      }
    });
});
