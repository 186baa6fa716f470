/**
 * The realistic synthetic source shared by the demo, the tests and the benchmarks (SPEC §9, §10).
 *
 * ```ts
 * const gen = createGenerator(scaleFactorOptions(0.1, end));
 * const writer = openSqliteWriter('source.sqlite');
 * await writer.createTables();
 * await gen.advanceTo(writer, gen.end);
 * await productionBatch(gen, writer);
 * await writer.close();
 * ```
 */
export { createGenerator, type PendingState, type SourceGenerator } from './timeline.js';
export { productionBatch } from './production-batch.js';
export {
  CYCLE_SECONDS,
  DEFAULT_RATES,
  PRODUCTION_RATE,
  SCALE_FACTOR_DAYS,
  resolveOptions,
  scaleFactorOptions,
  type GeneratorOptions,
  type GeneratorRates,
  type LoadTarget,
  type ResolvedOptions,
} from './options.js';
export { summaryLines, type GeneratorSummary, type TableCounts, type WindowCounts } from './summary.js';
export { chunkRowCount, type OrderRow, type ScanRow, type TrackingRow, type WriteChunk } from './rows.js';
export {
  MYSQL_SOURCE_DDL,
  SOURCE_TABLES,
  SOURCE_TABLE_NAMES,
  SQLITE_SOURCE_DDL,
  quoteIdentifier,
  sourceDdl,
  type SourceColumn,
  type SourceDialect,
  type SourceTable,
  type SourceTableName,
} from './source-ddl.js';
export type { SourceWriter } from './writers/source-writer.js';
export { openSqliteWriter } from './writers/sqlite-writer.js';
export { openMysqlWriter, type MysqlWriterOptions } from './writers/mysql-writer.js';
