/**
 * The cycle's data tests (SPEC §3): a broken key in the rows a run wrote fails the run, naming the
 * test and its row count, and the failing rows are kept in order_tracking_meta.test_failures.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, redshiftPair, type EnginePair } from '../support/engines.js';

const NOW = 1_780_000_000;

for (const pair of [...pairs, redshiftPair]) {
  describe.skipIf(await pair.skip())(`data tests on ${pair.name}`, () => {
    let p: EnginePair;
    const env = (now: number) => ({
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_NOW: String(now),
    });
    const scan = (id: number, order: string) =>
      p.source(
        'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
        [id, order, 1, NOW - 3600, 'site', 'ARRIVE', null],
      );

    beforeEach(async () => {
      p = await pair.create();
      expect((await cli(['init'], env(NOW))).code).toBe(0);
    });
    afterEach(async () => p.close());

    // PostgreSQL looks marts up by key and batch through indexes each mart's first apply builds
    // after its insert; DuckDB and Redshift have none (zone maps). The Redshift double's catalog is
    // PostgreSQL's, so it is read there too: it must hold no index.
    const martIndexes = async () =>
      pair.name.startsWith('postgres') || p.double
        ? (
            await p.warehouse(
              `select c.relname as name, i.indisunique as is_unique from pg_index i
                 join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'settlement_ods' and c.relname like 'mart%' and i.indisvalid order by 1`,
            )
          ).map((r) => `${String(r.name)}${r.is_unique ? ' (unique)' : ''}`)
        : [];

    it('builds every mart index in the initial load, and none in one killed mid-mart', async () => {
      await scan(1, 'OT1');
      const killed = await cli(['run'], { ...env(NOW), ORDER_TRACKING_FAULT: 'during:mart_uts' });
      expect(killed.signal).toBe('SIGKILL');
      expect(await p.warehouse('select id from settlement_ods.mart_uni_tracking_spath')).toEqual([]);
      // mart_uti committed before mart_uts started; mart_uts's indexes rolled back with its rows.
      expect((await martIndexes()).filter((name) => name.startsWith('mart_uni_tracking_spath'))).toEqual([]);
      const r = await cli(['run'], env(NOW + 900));
      // The killed run is noticed and marked abandoned; nothing else is said.
      expect(r.stderr).toBe(
        'warning: marked runs abandoned: their process ended without recording an end runs=[1]\n',
      );
      expect(await p.warehouse('select id from settlement_ods.mart_uni_tracking_spath')).toEqual([{ id: 1 }]);
      const built = await martIndexes();
      if (pair.name.startsWith('postgres')) {
        expect(built).toHaveLength(8);
        expect(built.filter((name) => name.endsWith('(unique)'))).toEqual([
          'mart_ecs_order_info_order_id_idx (unique)',
          'mart_uni_tracking_info_order_id_idx (unique)',
          'mart_uni_tracking_spath_pathtime_order_id_traceseq_idx (unique)',
        ]);
      } else expect(built).toEqual([]);
    });

    it('warns, without failing, about scans whose order has no mart_uti row', async () => {
      await scan(1, 'OT-no-tracking');
      const r = await cli(['run'], env(NOW));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/relationship_mart_uts_mart_uti 1 rows/);
      expect(
        await p.warehouse('select test, severity, order_id from order_tracking_meta.test_failures'),
      ).toEqual([{ test: 'relationship_mart_uts_mart_uti', severity: 'warn', order_id: 'OT-no-tracking' }]);
    });

    it('fails the run on a NULL key among the rows it wrote, and stores the failing row', async () => {
      await scan(1, 'OT1');
      expect((await cli(['run'], env(NOW))).code).toBe(0);
      // A row that only a bug could write: NULL traceseq, stamped with the batch the next run loads
      // scans in (batch ids go uti, ecs, uts per run).
      const [last] = await p.warehouse('select max(batch_id) as m from order_tracking_meta.batches');
      const nextScanBatch = Number(last?.m) + 3;
      await p.warehouse(
        `insert into settlement_ods.mart_uni_tracking_spath (id, order_id, traceseq, pathtime, _batch_id)
         values (99, 'OT-broken', null, ${NOW - 60}, ${nextScanBatch})`,
      );
      await scan(2, 'OT2');
      const r = await cli(['run'], env(NOW + 900));
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/tests failed: not_null_mart_uts 1 rows/);
      const failures = await p.warehouse(
        "select test, severity, order_id from order_tracking_meta.test_failures where severity = 'error' order by test",
      );
      expect(failures).toEqual([{ test: 'not_null_mart_uts', severity: 'error', order_id: 'OT-broken' }]);
    });

    it('fails the run on a key the rows it wrote duplicate, where no unique index holds the key', async () => {
      await scan(1, 'OT1');
      expect((await cli(['run'], env(NOW))).code).toBe(0);
      // On PostgreSQL the mart's unique index makes a duplicate impossible (the test is then left
      // out): a warehouse whose index was dropped must still catch it.
      if (pair.name.startsWith('postgres'))
        await p.warehouse('drop index settlement_ods.mart_uni_tracking_spath_pathtime_order_id_traceseq_idx');
      const [last] = await p.warehouse('select max(batch_id) as m from order_tracking_meta.batches');
      await p.warehouse(
        `insert into settlement_ods.mart_uni_tracking_spath (id, order_id, traceseq, pathtime, _batch_id)
         values (98, 'OT1', 1, ${NOW - 3600}, ${Number(last?.m) + 3})`,
      );
      await scan(2, 'OT2');
      const r = await cli(['run'], env(NOW + 900));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/tests failed: unique_mart_uts 1 rows/);
      expect(
        await p.warehouse(
          "select test, order_id from order_tracking_meta.test_failures where severity = 'error'",
        ),
      ).toEqual([{ test: 'unique_mart_uts', order_id: 'OT1' }]);
    });

    it('fails the initial load on a key its rows duplicate', async () => {
      // Two rows that only a bug could write, stamped with the batch the first run loads scans in
      // (batch ids go uti, ecs, uts): the initial load checks every row of the mart.
      await p.warehouse(
        `insert into settlement_ods.mart_uni_tracking_spath (id, order_id, traceseq, pathtime, _batch_id)
         values (97, 'OT-twice', 1, ${NOW - 3600}, 3), (98, 'OT-twice', 1, ${NOW - 3600}, 3)`,
      );
      await scan(1, 'OT1');
      const r = await cli(['run'], env(NOW));
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      if (pair.name.startsWith('postgres')) {
        // PostgreSQL builds the unique index in the initial load, which the duplicate fails: the
        // mart's transaction rolls back with its rows, and the error names the key.
        expect(r.stderr).toMatch(
          /failed in mart_uts: could not create unique index "[^"]+": Key \(pathtime, order_id, traceseq\)=\(\d+, OT-twice, 1\) is duplicated\./,
        );
        expect(
          await p.warehouse("select id from settlement_ods.mart_uni_tracking_spath where order_id = 'OT1'"),
        ).toEqual([]);
      } else {
        expect(r.stderr).toMatch(/tests failed: unique_mart_uts 1 rows/);
        expect(
          await p.warehouse(
            "select test, order_id from order_tracking_meta.test_failures where severity = 'error'",
          ),
        ).toEqual([{ test: 'unique_mart_uts', order_id: 'OT-twice' }]);
      }
    });

    it('`sql tests` prints the tests a run would run, and says which unique keys an index holds', async () => {
      // The marts' indexes come with their first load.
      await scan(1, 'OT1');
      expect((await cli(['run'], env(NOW))).code).toBe(0);
      // `sql` plans offline on redshift:// unless told to connect.
      const r = await cli(['sql', 'tests', ...(p.double ? ['--connect'] : [])], env(NOW + 900));
      expect(r.code).toBe(0);
      const indexed = pair.name.startsWith('postgres');
      for (const mart of ['mart_uti', 'mart_ecs', 'mart_uts']) {
        expect(r.stdout.includes(`-- unique_${mart}: not run, the unique index on its key holds it`)).toBe(
          indexed,
        );
        expect(r.stdout.includes(`-- unique_${mart} (error)`)).toBe(!indexed);
        expect(r.stdout).toContain(`-- not_null_${mart} (error)`);
      }
    });

    it('`sql mart_uts` prints the plan a run executes, phase by phase, and changes nothing', async () => {
      await scan(1, 'OT1');
      expect((await cli(['run'], env(NOW))).code).toBe(0);
      const before = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_spath');
      // `sql` plans offline on redshift:// unless told to connect.
      const r = await cli(['sql', 'mart_uts', ...(p.double ? ['--connect'] : [])], env(NOW + 900));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const phases = r.stdout.split('\n').filter((line) => /^-- (look-up: )?[a-z ]+$/.test(line));
      expect(phases).toEqual([
        // Redshift locks the tables a mart's transaction writes first (`Dialect.lockTables`), and
        // dedupes the batch apart to write its time range as literals (`rangeLiterals`: zone maps).
        ...(p.double
          ? [
              '-- lock',
              '-- batch',
              '-- look-up: oldest time in the batch',
              '-- look-up: newest time in the batch',
            ]
          : []),
        '-- stage',
        // DuckDB and Redshift move a batch's already aged rows from the stage to hist first.
        ...(pair.name.startsWith('duckdb') || p.double
          ? ['-- look-up: cutoff after the apply', '-- look-up: oldest aged row in the stage']
          : []),
        '-- apply',
        '-- look-up: cutoff',
        '-- look-up: oldest aged row',
        '-- mark',
        '-- drop work tables',
      ]);
      expect(await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_spath')).toEqual(
        before,
      );
    });

    it('passes and records nothing on a clean run', async () => {
      await scan(1, 'OT1');
      await p.source(
        'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
        [1, 'OT1', 'TN1', 'IN_TRANSIT', 'DHL', 'Köln', NOW - 3600],
      );
      const r = await cli(['run'], env(NOW));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/tests\s+success/);
      expect(await p.warehouse('select count(*) as n from order_tracking_meta.test_failures')).toEqual([
        { n: 0 },
      ]);
    });
  });
}
