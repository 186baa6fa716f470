import { typeName, widens, type Column, type LogicalType } from '../engines/types.js';
import type { SourceTableSpec } from './tables.js';

export interface Drift {
  /** Problems that stop the run before anything is written (SPEC §3 check_drift). */
  readonly errors: readonly string[];
  /** Source columns the raw table lacks: added to raw (and, later, to marts and hist). */
  readonly added: readonly Column[];
  /** Columns whose source type grew in a way the warehouse can follow (a longer varchar). */
  readonly widened: readonly Column[];
  /** Columns raw has but the source no longer has: kept, loaded as NULL from now on. */
  readonly dropped: readonly string[];
}

/**
 * Compares a source table's columns with its raw table's (pure; `raw` null: not created yet).
 * `stored` gives the type the warehouse keeps a source type as (`storedType`: a decimal wider than
 * the engine holds is text), so such a column is not reported as changed on every run.
 */
export const compareColumns = (
  spec: SourceTableSpec,
  source: readonly Column[],
  raw: readonly Column[] | null,
  loadColumnNames: ReadonlySet<string>,
  stored: (type: LogicalType) => LogicalType = (type) => type,
): Drift => {
  const errors: string[] = [];
  const byName = new Map(source.map((c) => [c.name, c]));
  for (const required of spec.required) {
    const column = byName.get(required.name.toLowerCase());
    if (!column) errors.push(`source table ${spec.name} has no required column ${required.name}`);
    else if (!required.kinds.includes(column.type.kind))
      errors.push(
        `source column ${spec.name}.${required.name} changed type to ${typeName(column.type)} (expected ${required.kinds.join(' or ')})`,
      );
  }
  if (!raw) return { errors, added: [], widened: [], dropped: [] };

  const rawByName = new Map(raw.map((c) => [c.name, c]));
  const added: Column[] = [];
  const widened: Column[] = [];
  for (const column of source) {
    const existing = rawByName.get(column.name);
    if (!existing) added.push(column);
    else if (!widens(stored(column.type), existing.type)) {
      if (widens(existing.type, stored(column.type))) widened.push(column);
      else if (!spec.required.some((r) => r.name.toLowerCase() === column.name))
        errors.push(
          `source column ${spec.name}.${column.sourceName} changed type from ${typeName(existing.type)} to ${typeName(column.type)}; the warehouse cannot follow it automatically`,
        );
    }
  }
  const dropped = raw.filter((c) => !byName.has(c.name) && !loadColumnNames.has(c.name)).map((c) => c.name);
  return { errors, added, widened, dropped };
};
