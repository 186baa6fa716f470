import { CYCLE_SECONDS, type LoadTarget, PRODUCTION_RATE } from './options.js';
import type { WindowCounts } from './summary.js';
import type { SourceGenerator } from './timeline.js';
import type { SourceWriter } from './writers/source-writer.js';

/**
 * Writes one 15-minute window at production rate (SPEC §10: ~1,700 new orders, ~20,000 tracking
 * updates, ~67,700 scan events) on top of the generator's current state, and advances it by 900 s.
 *
 * The window's own scheduled writes count towards the targets; the rest are extra new orders and
 * extra updates (with scans) on random in-flight orders, so updates hit existing order ids as they
 * do in production, one update per order while the window finds orders it has not updated (SF 1's
 * 22,000 orders in flight take a production window's 20,000; SF 0.1's 2,300 cannot). Advance the
 * generator past at least a few hours of history first: with no order in flight, there is nothing
 * to update and only new orders are written.
 *
 * @param rate per-window targets; default `PRODUCTION_RATE`.
 * @returns what was written in the window (late uploads of its scans land in later windows).
 */
export function productionBatch(
  generator: SourceGenerator,
  writer: SourceWriter,
  rate: LoadTarget = PRODUCTION_RATE,
): Promise<WindowCounts> {
  return generator.advanceTo(writer, generator.now + CYCLE_SECONDS, rate);
}
