import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { resolveSettings, type CliOptions } from '../config/settings.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import { CYCLE_SECONDS, createGenerator, openSqliteWriter, summaryLines } from '../generator/index.js';
import { metaTables } from '../pipeline/meta.js';
import { rawTableName, sourceTables } from '../pipeline/tables.js';
import { createLogger } from '../runner/logger.js';
import { runCycle } from '../runner/run-cycle.js';
import { initCommand } from './init.js';

const DAY = 86_400;
/** The generated history ends here, so it crosses 1 Jan 2026 (a half-year boundary, SPEC §9). */
const DEMO_END = Date.UTC(2026, 1, 15) / 1000;
const demoDir = join('.order-tracking', 'demo');

const isoDay = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 10);

/**
 * `order-tracking demo`: generates a SQLite source under `.order-tracking/demo/`, loads its history
 * into an embedded DuckDB warehouse there, then replays a day of live traffic cycle by cycle.
 */
export const demoCommand = async (cli: CliOptions, days: number): Promise<void> => {
  if (!Number.isInteger(days) || days < 2 || days > 1000)
    throw new (await import('../config/errors.js')).ConfigError(
      `--days "${days}" is not a whole number between 2 and 1000`,
    );
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(demoDir, { recursive: true });
  const sourcePath = join(demoDir, 'source.sqlite');
  const settings = resolveSettings({
    ...cli,
    source: `sqlite:${sourcePath}`,
    warehouse: `duckdb:${join(demoDir, 'warehouse.duckdb')}`,
  });
  const log = createLogger(false);
  const replayDays = 1;
  const generator = createGenerator({ seed: 42, start: DEMO_END - days * DAY, days, ordersPerDay: 150 });
  const writer = openSqliteWriter(sourcePath);
  await writer.createTables();
  const out = (line = ''): void => void process.stdout.write(`${line}\n`);

  out(
    `Generating ${days - replayDays} days of history (${isoDay(generator.start)} … ${isoDay(DEMO_END - replayDays * DAY)}) into ${sourcePath}`,
  );
  const started = performance.now();
  await generator.advanceTo(writer, DEMO_END - replayDays * DAY);
  out(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  await initCommand(settings);

  const first = await runCycle({ settings, log, now: generator.now + 60 });
  out(
    `Initial load: run ${first.runId} in ${first.seconds.toFixed(1)} s (${first.tasks.find((t) => t.task === 'extract')?.note ?? ''})`,
  );

  const cycles = (replayDays * DAY) / CYCLE_SECONDS;
  out(`Replaying ${cycles} fifteen-minute cycles of live traffic:`);
  const bar = new cliProgress.SingleBar(
    { format: '  {bar} {value}/{total} cycles  {rows} rows', hideCursor: true, stream: process.stdout },
    cliProgress.Presets.shades_classic,
  );
  bar.start(cycles, 0, { rows: 0 });
  let rows = 0;
  for (let i = 1; i <= cycles; i++) {
    const t = DEMO_END - replayDays * DAY + i * CYCLE_SECONDS;
    await generator.advanceTo(writer, t);
    const summary = await runCycle({ settings, log, now: t + 60 });
    rows += summary.tasks.find((task) => task.task === 'extract')?.rowsWritten ?? 0;
    bar.update(i, { rows });
  }
  bar.stop();
  await writer.close();

  out('');
  out('What the source holds:');
  for (const line of summaryLines(generator.summary)) out(`  ${line}`);
  out('');
  out(`What landed in ${settings.warehouse.url}:`);
  const warehouse = await openWarehouse(settings.warehouse);
  try {
    await withConnection(warehouse, async (c) => {
      const d = warehouse.dialect;
      const marks = metaTables(settings.schemas).watermarks;
      for (const spec of sourceTables) {
        const [row] = await c.query<{ n: number; ids: number; batches: number }>(
          `select count(*) as n, count(distinct id) as ids, count(distinct _batch_id) as batches
             from ${d.table(settings.schemas.raw, rawTableName(spec.name))}`,
        );
        const [mark] = await c.query<{ value: number }>(
          `select value from ${d.table(marks.schema, marks.name)} where table_name = $1`,
          [spec.name],
        );
        out(
          `  ${settings.schemas.raw}.${rawTableName(spec.name).padEnd(24)} ${String(row?.n).padStart(9)} row versions, ${String(row?.ids).padStart(8)} distinct ids, ${row?.batches} batches, watermark ${spec.cursor.column} = ${mark?.value}`,
        );
      }
    });
  } finally {
    await warehouse.close();
  }
  out('');
  out('Next: the marts, archives and exceptions build on these raw tables. Look around with');
  out(`  duckdb ${join(demoDir, 'warehouse.duckdb')}   (or any DuckDB client)`);
};
