import type { Schemas } from '../config/settings.js';
import type { QuarantinedValue, Value } from '../engines/types.js';
import type { Dialect, WarehouseConnection } from '../engines/warehouse/warehouse.js';
import { exceptionIdentity } from './mart-sql/fragments.js';
import { marts } from './marts.js';
import { exceptionsTable } from './meta.js';
import type { Statement } from './statement.js';
import { rawTableName, type SourceTableName } from './tables.js';

/** Exception types the cycle writes (SPEC §4 safety net, §5 bad rows); monitoring adds `DQ_*` (§6). */
export const cycleExceptionTypes = [
  'NULL_ORDER_ID',
  'NULL_KEY',
  'FUTURE_TIMESTAMP',
  'TIMESTAMP_BEFORE_FLOOR',
  'BAD_VALUE',
  'INVALID_UTF8',
  'ARCHIVE_ROUTING_GAP',
  'ARCHIVE_ROUTING_GAP_UTS',
] as const;

/** Whether `type` is one the pipeline writes: a cycle type, or any `DQ_*` check type. */
export const isExceptionType = (type: string): boolean =>
  (cycleExceptionTypes as readonly string[]).includes(type) || /^DQ_[A-Z0-9_]+$/.test(type);

/** Which exceptions a list or resolve applies to; every field narrows, none means all. */
export interface ExceptionFilter {
  readonly id?: number;
  /** Any of these exception ids (the monitor resolves in chunks). */
  readonly ids?: readonly Value[];
  readonly type?: string;
  readonly orderId?: string;
  /** Only rows with `resolved_at is null`. */
  readonly openOnly?: boolean;
  /** Only rows with `resolved_at is not null` (the dashboard's resolved view). */
  readonly resolvedOnly?: boolean;
}

/** An exceptions row as `list` reads it. */
export interface ExceptionRow {
  readonly exception_id: number | string | null;
  readonly exception_type: string | null;
  readonly order_id: string | null;
  readonly source_table: string | null;
  readonly source_id: number | string | null;
  readonly traceseq: number | null;
  readonly pathtime: number | string | null;
  readonly event_time: number | string | null;
  readonly detected_at: string | null;
  readonly resolved_at: string | null;
  readonly notes: string | null;
  readonly column_name: string | null;
  readonly [column: string]: Value;
}

const listedColumns = [
  'exception_id',
  'exception_type',
  'order_id',
  'source_table',
  'source_id',
  'traceseq',
  'pathtime',
  'event_time',
  'column_name',
  'detected_at',
  'resolved_at',
  'notes',
] as const;

const qualified = (d: Dialect, schemas: Schemas): string => {
  const t = exceptionsTable(schemas);
  return d.table(t.schema, t.name);
};

/** `where …` for a filter, numbering placeholders from `$first`; empty when the filter is empty. */
const whereClause = (
  d: Dialect,
  filter: ExceptionFilter,
  first = 1,
): { readonly sql: string; readonly params: Value[] } => {
  const clauses: string[] = [];
  const params: Value[] = [];
  const bind = (column: string, value: Value): void => {
    params.push(value);
    clauses.push(`${d.quote(column)} = $${first + params.length - 1}`);
  };
  if (filter.id !== undefined) bind('exception_id', filter.id);
  if (filter.ids !== undefined) {
    const at = first + params.length;
    params.push(...filter.ids);
    clauses.push(`${d.quote('exception_id')} in (${filter.ids.map((_, i) => `$${at + i}`).join(', ')})`);
  }
  if (filter.type !== undefined) bind('exception_type', filter.type);
  if (filter.orderId !== undefined) bind('order_id', filter.orderId);
  if (filter.openOnly) clauses.push(`${d.quote('resolved_at')} is null`);
  if (filter.resolvedOnly) clauses.push(`${d.quote('resolved_at')} is not null`);
  return { sql: clauses.length > 0 ? `where ${clauses.join(' and ')}` : '', params };
};

/**
 * A row limit written into the SQL: Redshift documents LIMIT as a number, not a bind parameter
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_ORDER_BY_clause.html).
 */
export const wholeLimit = (limit: number): number => {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`row limit ${limit} is not a whole number`);
  return limit;
};

/** Newest first, at most `limit` rows. */
export const planListExceptions = (
  d: Dialect,
  schemas: Schemas,
  filter: ExceptionFilter,
  limit: number,
): Statement => {
  const where = whereClause(d, filter);
  return {
    sql: `select ${listedColumns.map((c) => d.quote(c)).join(', ')}
  from ${qualified(d, schemas)}
  ${where.sql}
 order by ${d.quote('detected_at')} desc nulls last, ${d.quote('exception_id')} desc nulls last
 limit ${wholeLimit(limit)}`,
    params: where.params,
  };
};

/** How many rows match, open or not (`n`) and open (`open`): "showing 50 of 1,234". */
export const planCountExceptions = (d: Dialect, schemas: Schemas, filter: ExceptionFilter): Statement => {
  const where = whereClause(d, filter);
  return {
    sql: `select count(*) as n, count(*) - count(${d.quote('resolved_at')}) as ${d.quote('open')}
  from ${qualified(d, schemas)}
  ${where.sql}`,
    params: where.params,
  };
};

/**
 * Marks the OPEN exceptions matching `filter` resolved now, appending `note` to their notes.
 * Already-resolved rows are never touched, so their `resolved_at` keeps its first value. Resolving
 * an ARCHIVE_ROUTING_GAP lets the next run archive its row (SPEC §4).
 */
export const planResolveExceptions = (
  d: Dialect,
  schemas: Schemas,
  filter: Omit<ExceptionFilter, 'openOnly'>,
  note?: string,
): Statement => {
  const notes = d.quote('notes');
  const set = [`${d.quote('resolved_at')} = ${d.now}`];
  const params: Value[] = [];
  if (note !== undefined) {
    params.push(note);
    // notes is varchar(512): a long appended note is cut at the column's size rather than failing
    // the whole resolve on engines that enforce it.
    set.push(
      `${notes} = substring(case when ${notes} is null or ${notes} = '' then cast($1 as varchar) else ${notes} || '; ' || cast($1 as varchar) end, 1, 512)`,
    );
  }
  const where = whereClause(d, { ...filter, openOnly: true }, params.length + 1);
  return {
    sql: `update ${qualified(d, schemas)}
   set ${set.join(', ')}
 ${where.sql}`,
    params: [...params, ...where.params],
  };
};

/**
 * Resolves the open exceptions `filter` matches (`planResolveExceptions`); when none was open, also
 * counts those it matches at all, so the caller can say "already resolved" from "no such exception".
 * The CLI's `exceptions resolve` and the dashboard both resolve through it, under the lease.
 */
export const resolveOpenExceptions = async (
  c: WarehouseConnection,
  d: Dialect,
  schemas: Schemas,
  filter: Omit<ExceptionFilter, 'openOnly'>,
  note?: string,
): Promise<{ readonly resolved: number; readonly matching: number }> => {
  const update = planResolveExceptions(d, schemas, filter, note);
  const resolved = await c.execute(update.sql, update.params);
  if (resolved > 0) return { resolved, matching: resolved };
  const counted = planCountExceptions(d, schemas, filter);
  return { resolved, matching: Number((await c.query(counted.sql, counted.params))[0]?.n ?? 0) };
};

/** The exceptions of one type that a filter matches: how many, how many open, first and last detected. */
export interface ExceptionsOfType {
  readonly type: string;
  /** Rows of the type the filter matches, open or resolved (all open under `openOnly`). */
  readonly count: number;
  readonly open: number;
  /** The earliest and latest `detected_at` among them, ISO-8601 UTC. */
  readonly oldest: string | null;
  readonly newest: string | null;
}

/**
 * Exceptions per type among those `filter` matches (`exceptions list`; `status` and the snapshot
 * for the open ones): how many, how many open, the oldest and newest detection. One row per type.
 */
export const planExceptionsByType = (
  d: Dialect,
  schemas: Schemas,
  filter: Pick<ExceptionFilter, 'type' | 'openOnly'> = {},
): Statement => {
  const where = whereClause(d, { type: filter.type, openOnly: filter.openOnly });
  const detected = d.quote('detected_at');
  return {
    sql: `select ${d.quote('exception_type')} as exception_type, count(*) as n, count(*) - count(${d.quote('resolved_at')}) as ${d.quote('open')},
       min(${detected}) as oldest, max(${detected}) as newest
  from ${qualified(d, schemas)}
  ${where.sql}
 group by ${d.quote('exception_type')}
 order by ${d.quote('exception_type')}`,
    params: where.params,
  };
};

/** Open exceptions per type, with the oldest and newest detection of each (status, dashboard). */
export const planOpenExceptionsByType = (d: Dialect, schemas: Schemas): Statement =>
  planExceptionsByType(d, schemas, { openOnly: true });

/**
 * The rows of `planExceptionsByType` typed, sorted by type in code-point order whatever the
 * warehouse's collation (a linguistic one such as en_US skips `_` at first, so the order would
 * differ between engines).
 */
export const exceptionsByType = (rows: readonly Readonly<Record<string, Value>>[]): ExceptionsOfType[] => {
  const text = (v: Value | undefined): string | null => (v === null || v === undefined ? null : String(v));
  return rows
    .map((r) => ({
      type: text(r.exception_type) ?? '(no type)',
      count: Number(r.n),
      open: Number(r.open),
      oldest: text(r.oldest),
      newest: text(r.newest),
    }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
};

/** The filter as the flags that give it (`--type NULL_ORDER_ID --order OT1`), for messages. */
export const describeFilter = (filter: ExceptionFilter): string =>
  [
    filter.id !== undefined ? `--id ${filter.id}` : '',
    filter.type !== undefined ? `--type ${filter.type}` : '',
    filter.orderId !== undefined ? `--order ${filter.orderId}` : '',
  ]
    .filter(Boolean)
    .join(' ');

/**
 * One FUTURE_TIMESTAMP per row read above a time cursor's window (`id`, `order_id`, timestamp),
 * unless the same row and time already has one (SPEC §5; the marts open theirs for rows they
 * stage by the same key). The values are bound, cast so every engine types them alike.
 */
export const planOpenFutureRows = (
  d: Dialect,
  schemas: Schemas,
  table: string,
  cursorColumn: string,
  rows: readonly (readonly Value[])[],
): Statement => {
  const params: Value[] = [];
  const bind = (v: Value, type: string): string => {
    params.push(v === null ? null : typeof v === 'bigint' || typeof v === 'number' ? v : String(v));
    return `cast($${params.length} as ${type})`;
  };
  const values = rows
    .map(
      (r) =>
        `select ${bind(r[0] ?? null, 'bigint')} as id, ${bind(r[1] ?? null, 'varchar')} as order_id, ${bind(r[2] ?? null, 'bigint')} as ts`,
    )
    .join('\n  union all ');
  params.push(table, `${cursorColumn} more than 1 day after the run clock; read when it is due`);
  const [t, notes] = [params.length - 1, params.length];
  const ledger = qualified(d, schemas);
  return {
    sql: `insert into ${ledger} (order_id, exception_type, source_table, source_id, event_time, detected_at, notes)
select f.order_id, 'FUTURE_TIMESTAMP', cast($${t} as varchar), f.id, f.ts, ${d.now}, cast($${notes} as varchar)
from (${values}) f
where not exists (select 1 from ${ledger} e
                   where e.exception_type = 'FUTURE_TIMESTAMP' and e.source_table = cast($${t} as varchar)
                     and e.source_id = f.id and e.event_time = f.ts)`,
    params,
  };
};

const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

/** A source id as the ledger's bigint `source_id` holds it, or `null` when it cannot. */
const ledgerId = (id: string | null): bigint | null => {
  if (id === null || !/^-?\d{1,20}$/.test(id)) return null;
  const n = BigInt(id);
  return n >= INT64[0] && n <= INT64[1] ? n : null;
};

/** What a value's exception says: the column, why, and what happened to the row. */
const quarantineNote = (v: QuarantinedValue): string => {
  const id = v.id !== null && ledgerId(v.id) === null ? ` (source id ${v.id.slice(0, 40)})` : '';
  const outcome =
    v.type === 'BAD_VALUE' ? 'stored as NULL in raw, the row kept out of the marts' : 'the row flows on';
  return `${v.column}: ${v.reason}; ${outcome}${id}`.slice(0, 512);
};

/**
 * One exception per value a load of batch `batchId` stored as NULL (`BAD_VALUE`) or per row whose
 * bytes it replaced (`INVALID_UTF8`), with the order, event time and identity of the row as raw
 * holds it, unless the same row, column and version (event time) has one already: re-reading the
 * overlap never opens a second one (SPEC §5). A source id past the ledger's bigint is in the notes.
 */
export const planOpenQuarantined = (
  d: Dialect,
  schemas: Schemas,
  table: SourceTableName,
  batchId: number,
  values: readonly QuarantinedValue[],
): Statement => {
  const spec = marts.find((m) => m.source === table);
  if (!spec) throw new Error(`no mart reads ${table}`);
  const params: Value[] = [];
  const bind = (v: Value, type: string): string => {
    params.push(v);
    return `cast($${params.length} as ${type})`;
  };
  const rows = values
    .map(
      (v) =>
        `select ${bind(ledgerId(v.id), 'bigint')} as id, ${bind(v.column, 'varchar')} as col, ${bind(v.type, 'varchar')} as kind, ${bind(quarantineNote(v), 'varchar')} as notes`,
    )
    .join('\n  union all ');
  params.push(table, batchId);
  const [t, batch] = [params.length - 1, params.length];
  const ledger = qualified(d, schemas);
  const ts = `r.${d.quote(spec.ts)}`;
  return {
    sql: `insert into ${ledger} (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, column_name, detected_at, notes)
select r.order_id, q.kind, cast($${t} as varchar), q.id, ${exceptionIdentity(d, spec, 'r')}, ${ts}, q.col, ${d.now}, q.notes
from (${rows}) q
  left join ${d.table(schemas.raw, rawTableName(table))} r on r._batch_id = $${batch} and r.id = q.id
where not exists (select 1 from ${ledger} e
                   where e.exception_type = q.kind and e.source_table = cast($${t} as varchar) and e.column_name = q.col
                     and (e.source_id = q.id or (e.source_id is null and q.id is null and e.notes = q.notes))
                     and (e.event_time = ${ts} or (e.event_time is null and ${ts} is null)))`,
    params,
  };
};
