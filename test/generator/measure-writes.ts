/**
 * Prints how fast the generator writes ~1 M scan events (plus their orders and tracking updates)
 * into SQLite and, given a URL, into MySQL/MariaDB. Not a test: timings are printed, not asserted.
 *
 *   npx tsx test/generator/measure-writes.ts [mysql://root@127.0.0.1:3306]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import {
  createGenerator,
  type GeneratorOptions,
  openMysqlWriter,
  openSqliteWriter,
  type SourceWriter,
} from '../../src/generator/index.js';
import { JAN_2025 } from './recording-writer.js';

// ~26,000 orders over 6 months → ~1.0 M scan events.
const options: GeneratorOptions = { seed: 1, start: JAN_2025, days: 183, ordersPerDay: 142 };

async function measure(label: string, writer: SourceWriter): Promise<void> {
  await writer.createTables();
  const gen = createGenerator(options);
  const started = performance.now();
  await gen.advanceTo(writer, gen.end);
  const seconds = (performance.now() - started) / 1000;
  await writer.close();
  const s = gen.summary;
  const writes =
    s.inserted.ecs_order_info +
    s.inserted.uni_tracking_info +
    s.inserted.uni_tracking_spath +
    s.trackingUpdates;
  console.log(
    `${label}: ${s.inserted.uni_tracking_spath.toLocaleString()} scan events, ` +
      `${writes.toLocaleString()} writes in ${seconds.toFixed(2)} s → ` +
      `${Math.round(writes / seconds).toLocaleString()} writes/s, ` +
      `${Math.round(s.inserted.uni_tracking_spath / seconds).toLocaleString()} scans/s`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'ot-measure-'));
try {
  await measure('SQLite', openSqliteWriter(join(dir, 'source.sqlite')));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const server = process.argv[2];
if (server !== undefined) {
  const database = `ot_measure_${process.pid}`;
  const admin = await createConnection({ uri: server });
  await admin.query(`create database \`${database}\``);
  try {
    const url = `${server.replace(/\/$/, '')}/${database}`;
    await measure('MySQL (LOAD DATA)', await openMysqlWriter(url));
    await admin.query(`drop database \`${database}\``);
    await admin.query(`create database \`${database}\``);
    await measure('MySQL (INSERT)', await openMysqlWriter(url, { loadData: false }));
  } finally {
    await admin.query(`drop database \`${database}\``);
    await admin.end();
  }
}
