import type { WarehouseConnection } from '../engines/warehouse/warehouse.js';
import { isLookup, type Phase } from '../pipeline/mart-sql/plan.js';
import type { Statement } from '../pipeline/statement.js';
import type { Logger } from './logger.js';
import { queryOne } from './task.js';

/** Rows changed per `Statement.counts` label (`inserted`, `archived:2025_h2`, …), summed. */
export type Counts = Record<string, number>;

/**
 * Runs statements in order on one session, summing their changed rows under their `counts` label.
 * A statement with `onlyFrom` runs only when the one just before it changed that many rows.
 */
export const runStatements = async (
  c: WarehouseConnection,
  statements: readonly Statement[],
  counts: Counts,
  log: Logger,
): Promise<void> => {
  let previous = 0;
  for (const s of statements) {
    if (s.onlyFrom !== undefined && previous < s.onlyFrom) continue;
    const started = performance.now();
    const n = await c.execute(s.sql, s.params);
    previous = n;
    log.debug(
      { ms: Math.round(performance.now() - started), rows: n, sql: s.sql.slice(0, 100).replace(/\s+/g, ' ') },
      'statement',
    );
    if (s.counts) counts[s.counts] = (counts[s.counts] ?? 0) + n;
  }
};

/** The number a look-up selects as `m`, or `null`. */
const answer = async (c: WarehouseConnection, s: Statement): Promise<number | null> => {
  const row = await queryOne<{ m: number | null }>(c, s.sql, s.params);
  return row?.m === null || row?.m === undefined ? null : Number(row.m);
};

/** Runs a plan's phases in order, answering each look-up from the warehouse to plan what follows. */
export const runPlan = async (
  c: WarehouseConnection,
  phases: readonly Phase[],
  counts: Counts,
  log: Logger,
): Promise<void> => {
  for (const phase of phases) {
    if (isLookup(phase)) await runPlan(c, phase.then(await answer(c, phase.lookup)), counts, log);
    else await runStatements(c, phase.statements, counts, log);
  }
};
