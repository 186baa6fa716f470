import { ConfigError, ExitCode, UserError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import {
  cycleExceptionTypes,
  describeFilter,
  isExceptionType,
  planCountExceptions,
  planListExceptions,
  planResolveExceptions,
  type ExceptionFilter,
  type ExceptionRow,
} from '../pipeline/exceptions.js';
import { snapshotExceptions, type StatusSnapshot } from '../pipeline/status/snapshot.js';
import type { ActiveLease } from '../engines/warehouse/warehouse.js';
import { takeLease } from '../runner/run-cycle.js';
import {
  activeRunLine,
  alignColumns,
  epochTime,
  openForReading,
  openInitializedWarehouse,
  shortTime,
} from './status.js';

/** What `exceptions list` takes from the command line (strings as typed). */
export interface ListFlags {
  readonly open?: boolean;
  readonly type?: string;
  readonly order?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** What `exceptions resolve` takes from the command line. */
export interface ResolveFlags {
  readonly id?: string;
  readonly type?: string;
  readonly order?: string;
  readonly note?: string;
}

/** Default and largest `--limit` of `exceptions list`. */
export const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100_000;
/** `notes` is varchar(512); leave room for what the pipeline wrote there. */
const MAX_NOTE = 256;

const wholeNumber = (raw: string, flag: string, min: number, max: number): number => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new ConfigError(`${flag} "${raw}" is not a whole number between ${min} and ${max}`);
  return n;
};

const exceptionType = (raw: string): string => {
  // Types are upper-case in the ledger; accept any case so `--type null_order_id` works.
  const type = raw.trim().toUpperCase();
  if (!isExceptionType(type))
    throw new ConfigError(
      `--type "${raw}" is not an exception type (use ${cycleExceptionTypes.join(', ')} or DQ_<check>)`,
    );
  return type;
};

const orderId = (raw: string): string => {
  if (raw.trim() === '') throw new ConfigError('--order is empty: give the order_id to match');
  return raw;
};

/** Validates `list` flags before anything is opened; throws a one-line `ConfigError`. */
export const parseListFlags = (
  flags: ListFlags,
): { readonly filter: ExceptionFilter; readonly limit: number; readonly json: boolean } => ({
  filter: {
    ...(flags.type !== undefined ? { type: exceptionType(flags.type) } : {}),
    ...(flags.order !== undefined ? { orderId: orderId(flags.order) } : {}),
    openOnly: Boolean(flags.open),
  },
  limit: flags.limit === undefined ? DEFAULT_LIMIT : wholeNumber(flags.limit, '--limit', 1, MAX_LIMIT),
  json: Boolean(flags.json),
});

/** Validates `resolve` flags: `--id N`, or `--type T` with an optional `--order`. */
export const parseResolveFlags = (
  flags: ResolveFlags,
): { readonly filter: Omit<ExceptionFilter, 'openOnly'>; readonly note?: string } => {
  if (flags.id !== undefined && (flags.type !== undefined || flags.order !== undefined))
    throw new ConfigError('resolve takes either --id N or --type T [--order ORDER_ID], not both');
  if (flags.id === undefined && flags.type === undefined)
    throw new ConfigError(
      'resolve needs --id N or --type T [--order ORDER_ID] (see `order-tracking exceptions list`)',
    );
  if (flags.note !== undefined && flags.note.length > MAX_NOTE)
    throw new ConfigError(`--note is ${flags.note.length} characters long; keep it under ${MAX_NOTE}`);
  if (flags.note !== undefined && /[\r\n]/.test(flags.note)) throw new ConfigError('--note must be one line');
  const filter: Omit<ExceptionFilter, 'openOnly'> =
    flags.id !== undefined
      ? { id: wholeNumber(flags.id, '--id', 0, Number.MAX_SAFE_INTEGER) }
      : {
          type: exceptionType(flags.type ?? ''),
          ...(flags.order !== undefined ? { orderId: orderId(flags.order) } : {}),
        };
  const note = flags.note?.trim();
  return note ? { filter, note } : { filter };
};

const cell = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

const eventTime = (r: ExceptionRow): string => {
  const epoch = r.event_time ?? r.pathtime;
  return epoch === null ? '' : epochTime(Number(epoch));
};

/** Aligned rows: id, type, order, the source row, its event time, detected, resolved, notes. */
export const formatExceptions = (rows: readonly ExceptionRow[]): string[] =>
  alignColumns(
    [
      ['id', 'type', 'order_id', 'source row', 'event time', 'detected', 'resolved', 'notes'],
      ...rows.map((r) => [
        cell(r.exception_id),
        cell(r.exception_type),
        cell(r.order_id),
        [
          r.source_id !== null ? `${cell(r.source_table)}#${r.source_id}` : cell(r.source_table),
          r.traceseq !== null ? `seq ${r.traceseq}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        eventTime(r),
        shortTime(r.detected_at),
        r.resolved_at === null ? 'open' : shortTime(r.resolved_at),
        cell(r.notes),
      ]),
    ],
    [0],
  );

/**
 * `order-tracking exceptions list`: newest first; read-only, no lease. While a run holds an
 * embedded warehouse's file, lists from the snapshot the last run left (its newest rows), and says so.
 */
export const listExceptions = async (settings: Settings, flags: ListFlags): Promise<string> => {
  const parsed = parseListFlags(flags);
  const { filter, limit, json } = parsed;
  const reading = await openForReading(settings);
  if ('snapshot' in reading) return listSnapshot(reading.snapshot, reading.holder, parsed);
  const { warehouse } = reading;
  try {
    const d = warehouse.dialect;
    const { rows, total } = await withConnection(warehouse, async (c) => {
      const list = planListExceptions(d, settings.schemas, filter, limit);
      const counted = planCountExceptions(d, settings.schemas, filter);
      return {
        rows: await c.query<ExceptionRow>(list.sql, list.params),
        total: Number((await c.query(counted.sql, counted.params))[0]?.n ?? 0),
      };
    });
    if (json) return JSON.stringify({ total, limit, exceptions: rows, snapshot: null });
    const what = filterText(filter);
    if (rows.length === 0) return `no exception matches${what ? ` ${what}` : ''}`;
    const more = total > rows.length ? `, showing the newest ${rows.length} (--limit N for more)` : '';
    return [...formatExceptions(rows), `${total} matching${more}`].join('\n');
  } finally {
    await warehouse.close();
  }
};

const filterText = (filter: ExceptionFilter): string =>
  [filter.openOnly ? '--open' : '', describeFilter(filter)].filter(Boolean).join(' ');

/**
 * `exceptions list` from a snapshot: the same filters over the rows it holds. `total` counts the
 * matches among them; `snapshot.rows` and `snapshot.ledgerRows` say whether that is the whole ledger.
 */
const listSnapshot = (
  snapshot: StatusSnapshot,
  holder: ActiveLease,
  { filter, limit, json }: ReturnType<typeof parseListFlags>,
): string => {
  const matching = snapshotExceptions(snapshot, filter);
  const rows = matching.slice(0, limit);
  const held = snapshot.exceptions.newest.length;
  const ledgerRows = snapshot.exceptions.total;
  if (json)
    return JSON.stringify({
      total: matching.length,
      limit,
      exceptions: rows,
      snapshot: { takenAt: snapshot.takenAt, activeRun: holder, rows: held, ledgerRows },
    });
  const first = activeRunLine(holder, snapshot.takenAt);
  const among = ledgerRows > held ? ` among the snapshot's newest ${held} of ${ledgerRows}` : '';
  const what = filterText(filter);
  if (rows.length === 0) return [first, `no exception matches${what ? ` ${what}` : ''}${among}`].join('\n');
  const more =
    matching.length > rows.length ? `, showing the newest ${rows.length} (--limit N for more)` : '';
  return [first, ...formatExceptions(rows), `${matching.length} matching${among}${more}`].join('\n');
};

/**
 * `order-tracking exceptions resolve`: marks the matching OPEN exceptions resolved, under the
 * pipeline's lease so it never races a run (SPEC §7). Matching nothing is a failure (exit 1): a
 * mistyped order id must not look like success.
 */
export const resolveExceptions = async (settings: Settings, flags: ResolveFlags): Promise<string> => {
  const { filter, note } = parseResolveFlags(flags);
  const what = describeFilter(filter);
  const warehouse = await openInitializedWarehouse(settings);
  try {
    const lease = await takeLease(warehouse, settings);
    try {
      const d = warehouse.dialect;
      const resolved = await withConnection(warehouse, async (c) => {
        const update = planResolveExceptions(d, settings.schemas, filter, note);
        const n = await c.execute(update.sql, update.params);
        if (n > 0) return n;
        const counted = planCountExceptions(d, settings.schemas, filter);
        const matching = Number((await c.query(counted.sql, counted.params))[0]?.n ?? 0);
        throw new UserError(
          `no open exception matches ${what}${matching > 0 ? ` (${matching} matching already resolved)` : ''}; nothing was changed`,
          ExitCode.failure,
        );
      });
      return `resolved ${resolved} open exception${resolved === 1 ? '' : 's'} matching ${what}`;
    } finally {
      await lease.release();
    }
  } finally {
    await warehouse.close();
  }
};
