import type { Schemas } from '../../config/settings.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { histTablePattern, type MartSpec } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { parsePeriod } from '../periods.js';
import { stmt, type Statement } from '../statement.js';

export const DAY_SECONDS = 86_400;

/** Exceptions that hold a row with a whole key out of the marts (SPEC §5): its home is the ledger. */
export const heldOutTypes = ['BAD_VALUE', 'FUTURE_TIMESTAMP', 'TIMESTAMP_BEFORE_FLOOR'] as const;

/** Exceptions of rows whose key is NULL: the reconcile counts them apart. */
export const nullKeyTypes = ['NULL_ORDER_ID', 'NULL_KEY'] as const;

/** One table's day as the reconcile saw it (SPEC §6). */
export interface ReconcileDay {
  readonly table: string;
  /** The day's first second, epoch seconds (UTC). */
  readonly day: number;
  readonly source: number;
  readonly warehouse: number;
  /**
   * Sums of the keys' version times (decimal text): equal counts with a version moved differ here.
   * Empty where the key holds the time.
   */
  readonly sourceVersions: string;
  readonly warehouseVersions: string;
  /** The re-extracted day's batch. */
  readonly batchId?: number;
  /**
   * Source rows with a NULL key in the day, and how many of them the ledger holds open: by id on a
   * day whose ledger count falls short (`nullIds`), else taken as held.
   */
  readonly sourceNullKeys: number;
  readonly warehouseNullKeys: number;
  /** The ids of those source rows where matched by id (their times move in place), else empty. */
  readonly nullIds: readonly string[];
  /** Re-extracted: the counts differ, or the source has NULL-key rows the ledger does not. */
  readonly differs: boolean;
  /**
   * Rows the re-extraction brought home, once the marts ran: mart and hist rows written from the
   * day's batch (new keys and newer versions; rows already there are left as they were), and
   * NULL-key rows newly held by the ledger.
   */
  readonly healed?: number;
  /** The warehouse's keys and their version-time sum after the re-extraction. */
  readonly warehouseAfter?: number;
  readonly warehouseVersionsAfter?: string;
  /** After the re-extraction the counts still differ (a row changed since, or a lag, not a loss). */
  readonly stillDiffers?: boolean;
}

/** The reconciled days: `days` whole UTC days ending where today (of `now`) begins. */
export const reconcileSpan = (now: number, days: number): { from: number; to: number } => {
  const to = now - (((now % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS);
  return { from: to - days * DAY_SECONDS, to };
};

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

/**
 * The warehouse's keys per UTC day of the mart's time in `[$1, $2)`, across the mart, the hist
 * tables whose period overlaps the span, and the ledger's held-out rows (distinct: a key in two of
 * them counts once a day). Columns `day`, `n`, and `s`, the sum of the keys' version times.
 */
export const planWarehouseDayCounts = (
  d: Dialect,
  schemas: Schemas,
  spec: MartSpec,
  histTables: readonly string[],
  span: { readonly from: number; readonly to: number },
): Statement => {
  const ts = d.quote(spec.ts);
  const keys = spec.key.filter((k) => k !== spec.ts).map((k) => d.quote(k));
  const overlapping = overlappingHist(spec, histTables, span);
  const e = exceptionsTable(schemas);
  const ledger = d.table(e.schema, e.name);
  // A key whose newest source version is held as FUTURE_TIMESTAMP counts at no day at the source
  // (updated in place, its older version is gone there): the version the warehouse keeps, neither.
  const pending = spec.key.includes(spec.ts)
    ? ''
    : ` and not exists (select 1 from ${ledger} f
                     where f.exception_type = 'FUTURE_TIMESTAMP' and f.resolved_at is null and f.source_table = $3
                       and f.order_id = h.order_id and f.event_time >= $2)`;
  const homes = [spec.table, ...overlapping].map(
    (t) =>
      `select ${keys.map((k) => `h.${k}`).join(', ')}, h.${ts} as t from ${d.table(schemas.mart, t)} h where h.${ts} >= $1 and h.${ts} < $2${pending}`,
  );
  const present = spec.key.map((k) => `${d.quote(k)} is not null`).join(' and ');
  homes.push(
    `select ${keys.join(', ')}, event_time as t from ${ledger}
    where source_table = $3 and resolved_at is null and exception_type in (${list(heldOutTypes)})
      and event_time >= $1 and event_time < $2 and ${present.replace(d.quote(spec.ts), 'event_time')}`,
  );
  return stmt(
    `select x.t - (x.t % ${DAY_SECONDS}) as day, count(*) as n, sum(x.t) as s
  from (${homes.join('\n        union\n        ')}) x
 group by x.t - (x.t % ${DAY_SECONDS})`,
    [span.from, span.to, spec.source],
  );
};

/** The spans' hist tables a day of `span` can be in: their period overlaps it. */
export const overlappingHist = (
  spec: MartSpec,
  histTables: readonly string[],
  span: { readonly from: number; readonly to: number },
): string[] =>
  histTables.filter((h) => {
    const period = parsePeriod(histTablePattern(spec).exec(h)?.[1] ?? '');
    return period !== null && period.start < span.to && period.end > span.from;
  });

/**
 * Rows of the mart and of `histTables` written from each of these batches (`b`, `n`): what a
 * re-extracted day brought home.
 */
export const planRowsFromBatches = (
  d: Dialect,
  schemas: Schemas,
  spec: MartSpec,
  histTables: readonly string[],
  batchIds: readonly number[],
): Statement => {
  const ids = batchIds.map((_, i) => `$${i + 1}`).join(', ');
  const homes = [spec.table, ...histTables].map(
    (t) => `select _batch_id from ${d.table(schemas.mart, t)} where _batch_id in (${ids})`,
  );
  return stmt(
    `select x._batch_id as b, count(*) as n
  from (${homes.join('\n        union all\n        ')}) x
 group by x._batch_id`,
    batchIds,
  );
};

/** The ledger's open NULL-key exceptions per UTC day of their event time (distinct source rows). */
export const planWarehouseNullKeys = (
  d: Dialect,
  schemas: Schemas,
  spec: MartSpec,
  span: { readonly from: number; readonly to: number },
): Statement => {
  const e = exceptionsTable(schemas);
  return stmt(
    `select event_time - (event_time % ${DAY_SECONDS}) as day, count(distinct source_id) as n
  from ${d.table(e.schema, e.name)}
 where source_table = $3 and resolved_at is null and exception_type in (${list(nullKeyTypes)})
   and event_time >= $1 and event_time < $2
 group by event_time - (event_time % ${DAY_SECONDS})`,
    [span.from, span.to, spec.source],
  );
};

/** Of these source ids, those with an open NULL-key exception (column `id`): the rows held. */
export const planHeldNullIds = (
  d: Dialect,
  schemas: Schemas,
  spec: MartSpec,
  ids: readonly bigint[],
): Statement => {
  const e = exceptionsTable(schemas);
  return stmt(
    `select distinct source_id as id
  from ${d.table(e.schema, e.name)}
 where source_table = $1 and resolved_at is null and exception_type in (${list(nullKeyTypes)})
   and source_id in (${ids.map((_, i) => `$${i + 2}`).join(', ')})`,
    [spec.source, ...ids],
  );
};
