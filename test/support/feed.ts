/**
 * Drives the shared synthetic generator into a test pair's source, stage by stage, so a scenario can
 * interleave "the source moves on to time t" with `order-tracking run` at t.
 */
import {
  createGenerator,
  openMysqlWriter,
  openSqliteWriter,
  type GeneratorOptions,
  type GeneratorRates,
  type SourceGenerator,
  type SourceWriter,
  type WindowCounts,
} from '../../src/generator/index.js';
import type { EnginePair } from './engines.js';

/**
 * Special cases raised far above production so a few months of a small feed hold plenty of each:
 * reactivated and long-lifecycle orders, NULL order ids, late scans, duplicate (tied) tracking rows
 * and timestamps days in the future (SPEC §4, §5).
 */
export const SPECIAL_CASE_RATES: Partial<GeneratorRates> = {
  reactivated: 0.05,
  longLifecycle: 0.05,
  nullOrderId: 0.01,
  lateScan: 0.05,
  duplicateTracking: 0.02,
  futureTimestamp: 0.001,
};

export interface Feed {
  readonly generator: SourceGenerator;
  /** Writes every generated change with commit time <= `t` (epoch seconds) into the source. */
  advanceTo(t: number): Promise<WindowCounts>;
  /** Releases the source connection; the pipeline keeps reading the source afterwards. */
  close(): Promise<void>;
}

const openWriter = async (p: EnginePair): Promise<SourceWriter> => {
  if (p.sourceDialect === 'sqlite') {
    if (!p.sourceUrl.startsWith('sqlite:')) throw new Error(`not a SQLite source URL: ${p.sourceUrl}`);
    return openSqliteWriter(p.sourceUrl.slice('sqlite:'.length));
  }
  return openMysqlWriter(p.sourceUrl);
};

/**
 * Opens a generator on the pair's source. The harness already created the (empty) source tables;
 * `createTables` is idempotent on empty tables and fails loudly if they already hold rows, which
 * would clash with the generator's ids. One writer stays open across stages: each chunk is its own
 * committed transaction (SQLite in WAL mode), so the pipeline reads the file between stages.
 */
export const openFeed = async (p: EnginePair, options: GeneratorOptions): Promise<Feed> => {
  const generator = createGenerator(options);
  const writer = await openWriter(p);
  await writer.createTables();
  return {
    generator,
    advanceTo: (t) => generator.advanceTo(writer, t),
    close: () => writer.close(),
  };
};

/**
 * One order in the source, an hour old: its tracking row, the order, and `scans` scan events a
 * minute apart. The smallest source a whole cycle has something to land in every mart from.
 */
export const seedOneOrder = async (p: EnginePair, now: number, scans = 1): Promise<void> => {
  await p.source(
    'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
    [1, 'OT1', 'TN1', 'IN_TRANSIT', 'DHL', 'Köln', now - 3600],
  );
  await p.source(
    'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
    [1, 'OT1', 7, 'Zoë', 'Lyon', 1200, now - 7200],
  );
  for (let i = 1; i <= scans; i++)
    await p.source(
      'insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values (?, ?, ?, ?, ?, ?, ?)',
      [i, 'OT1', i, now - 3600 + (i - 1) * 60, 'Zürich', 'ARRIVE', 'r'],
    );
};
