/**
 * The shared generator feeding a test pair's source (as `openFeed` does) with one writer of
 * uni_tracking_info running late: from a given moment on, the tracking updates of some carriers
 * commit `lagSeconds` after the `update_time` they carry (a host whose clock runs behind the
 * others', a batching integration, an hours-long transaction). Every other writer commits at once,
 * so the windows' watermark follows the punctual rows and the late ones can fall below its overlap
 * (SPEC §3 calc_window). A lag shared by every writer loses nothing (test/scenarios/cursors.test.ts):
 * the watermark is the greatest value landed, so it lags too.
 */
import {
  createGenerator,
  openMysqlWriter,
  openSqliteWriter,
  type GeneratorOptions,
  type SourceWriter,
  type TrackingRow,
  type WriteChunk,
} from '../../src/generator/index.js';
import type { EnginePair } from './engines.js';
import type { Feed } from './feed.js';

export interface LateHost {
  /** Carriers whose tracking updates the late host writes. */
  readonly carriers: ReadonlySet<string>;
  /** From this second on (a stage end: `advanceTo` is called with it); earlier updates commit at once. */
  readonly from: number;
  /** How long after its `update_time` each of its updates commits. */
  readonly lagSeconds: number;
}

export interface LateHostFeed extends Feed {
  /** Every tracking row the late host committed, at its last committed version. */
  readonly committedLate: ReadonlyMap<number, TrackingRow>;
  /** Versions the late host committed, all rows together. */
  readonly versionsCommittedLate: number;
  /** Versions stamped but not committed yet: the source does not hold them. */
  readonly inFlight: number;
}

/**
 * Opens a generator on the pair's source (tables created empty, as `openFeed`). Each `advanceTo(t)`
 * writes what the generator has up to `t`, keeping back the late host's updates, then commits in
 * one transaction those of its updates due by `t`, in the order stamped (so a row's versions never
 * go back in time). An update stamped in the future (SPEC §5) commits `lagSeconds` after its chunk.
 */
export const openLateHostFeed = async (
  p: EnginePair,
  options: GeneratorOptions,
  host: LateHost,
): Promise<LateHostFeed> => {
  const generator = createGenerator(options);
  if (p.sourceDialect === 'sqlite' && !p.sourceUrl.startsWith('sqlite:'))
    throw new Error(`not a SQLite source URL: ${p.sourceUrl}`);
  const writer =
    p.sourceDialect === 'sqlite'
      ? openSqliteWriter(p.sourceUrl.slice('sqlite:'.length))
      : await openMysqlWriter(p.sourceUrl);
  await writer.createTables();

  const held: { readonly due: number; readonly row: TrackingRow }[] = [];
  const committedLate = new Map<number, TrackingRow>();
  let versionsCommittedLate = 0;
  let lastDue = Number.NEGATIVE_INFINITY;
  let late = false;
  const keepingBack: SourceWriter = {
    createTables: () => writer.createTables(),
    close: () => writer.close(),
    async apply(chunk: WriteChunk) {
      const now: TrackingRow[] = [];
      for (const row of chunk.uni_tracking_info) {
        if (!late || !host.carriers.has(row.carrier)) {
          now.push(row);
          continue;
        }
        lastDue = Math.max(lastDue, Math.min(row.update_time, chunk.toAt) + host.lagSeconds);
        held.push({ due: lastDue, row });
      }
      await writer.apply({ ...chunk, uni_tracking_info: now });
    },
  };

  return {
    generator,
    async advanceTo(t) {
      const start = generator.now;
      if (start < host.from && t > host.from)
        throw new Error(`the late host starts at ${host.from}: make it a stage end`);
      late = start >= host.from;
      const counts = await generator.advanceTo(keepingBack, t);
      // One version per row in a chunk: the latest due.
      const due = new Map<number, TrackingRow>();
      let [fromAt, toAt] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
      while (held.length > 0 && (held[0]?.due ?? Number.POSITIVE_INFINITY) <= t) {
        const { due: at, row } = held.shift() as (typeof held)[number];
        due.set(row.id, row);
        [fromAt, toAt] = [Math.min(fromAt, at), Math.max(toAt, at)];
        versionsCommittedLate++;
      }
      if (due.size > 0) {
        await writer.apply({
          fromAt,
          toAt,
          ecs_order_info: [],
          uni_tracking_info: [...due.values()],
          uni_tracking_spath: [],
        });
        for (const row of due.values()) committedLate.set(row.id, row);
      }
      return counts;
    },
    close: () => writer.close(),
    committedLate,
    get versionsCommittedLate() {
      return versionsCommittedLate;
    },
    get inFlight() {
      return held.length;
    },
  };
};
