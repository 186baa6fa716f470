import type { Value } from '../engines/types.js';

/**
 * One planned statement: SQL text with `$1, $2, …` placeholders and the values bound to them.
 * Planning code returns these; the runner executes them (`src/runner/statements.ts`).
 */
export interface Statement {
  readonly sql: string;
  readonly params: readonly Value[];
  /** What the runner reports the changed row count as, if anything (`inserted`, `archived:2025_h2`…). */
  readonly counts?: string;
  /** Run only when the statement before it changed at least this many rows. */
  readonly onlyFrom?: number;
}

export const stmt = (sql: string, params: readonly Value[] = [], counts?: string): Statement =>
  counts === undefined ? { sql, params } : { sql, params, counts };
