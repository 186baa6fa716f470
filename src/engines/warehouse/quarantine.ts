import type { QuarantinedValue } from '../types.js';

/** How many values one table's window may quarantine before the load counts it as systematic and fails. */
export const QUARANTINE_LIMIT = 10_000;

/**
 * Collects one load's quarantined values, and fails the load once there are more than
 * `QUARANTINE_LIMIT`: so many bad values are a systematic problem (a type mapping, an encoding)
 * that one exception per value would bury, and memory stays bounded.
 */
export class Quarantine {
  readonly values: QuarantinedValue[] = [];

  constructor(private readonly target: string) {}

  add(value: QuarantinedValue): void {
    this.values.push(value);
    if (this.values.length > QUARANTINE_LIMIT) {
      const first = this.values
        .slice(0, 3)
        .map((v) => `${v.column} of id ${v.id ?? '?'} (${v.reason})`)
        .join(', ');
      throw new Error(
        `cannot load ${this.target}: more than ${QUARANTINE_LIMIT} values in this window cannot be stored as the source holds them, e.g. ${first}; fix the source's values or the column's type, then run again`,
      );
    }
  }

  addAll(values: readonly QuarantinedValue[] | undefined): void {
    for (const value of values ?? []) this.add(value);
  }
}
