import { ConfigError, ExitCode, UserError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import {
  cycleExceptionTypes,
  describeFilter,
  exceptionsByType,
  isExceptionType,
  planCountExceptions,
  planExceptionsByType,
  planListExceptions,
  resolveOpenExceptions,
  type ExceptionFilter,
  type ExceptionRow,
  type ExceptionsOfType,
} from '../pipeline/exceptions.js';
import {
  snapshotExceptions,
  snapshotExceptionsByType,
  type StatusSnapshot,
} from '../pipeline/status/snapshot.js';
import type { ActiveLease } from '../engines/warehouse/warehouse.js';
import { takeLease } from '../runner/run-cycle.js';
import {
  activeRunLine,
  alignColumns,
  epochTime,
  formatCount,
  openForReading,
  openInitializedWarehouse,
  shortTime,
} from './status.js';

/** What `exceptions list` takes from the command line (strings as typed). */
export interface ListFlags {
  /** The rows themselves rather than counts per type; `--id` and `--order` imply it. */
  readonly rows?: boolean;
  readonly open?: boolean;
  readonly id?: string;
  readonly type?: string;
  readonly order?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** `exceptions list`'s two views: counts per type (the default), or the rows newest first. */
export type ListView = 'byType' | 'rows';

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

/** `list` as its flags ask for it. */
export interface ListRequest {
  readonly view: ListView;
  readonly filter: ExceptionFilter;
  /** Rows at most (the rows view). */
  readonly limit: number;
  readonly json: boolean;
}

/**
 * Validates `list` flags before anything is opened; throws a one-line `ConfigError`. `--id` and
 * `--order` pick single exceptions, so they imply `--rows`; `--limit` counts rows, so it needs them.
 */
export const parseListFlags = (flags: ListFlags): ListRequest => {
  const filter: ExceptionFilter = {
    ...(flags.id !== undefined ? { id: wholeNumber(flags.id, '--id', 0, Number.MAX_SAFE_INTEGER) } : {}),
    ...(flags.type !== undefined ? { type: exceptionType(flags.type) } : {}),
    ...(flags.order !== undefined ? { orderId: orderId(flags.order) } : {}),
    openOnly: Boolean(flags.open),
  };
  const limit = flags.limit === undefined ? DEFAULT_LIMIT : wholeNumber(flags.limit, '--limit', 1, MAX_LIMIT);
  const view: ListView =
    flags.rows || flags.id !== undefined || flags.order !== undefined ? 'rows' : 'byType';
  if (view === 'byType' && flags.limit !== undefined)
    throw new ConfigError('--limit limits rows: add --rows (without it, list counts exceptions per type)');
  return { view, filter, limit, json: Boolean(flags.json) };
};

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

/** Counts per type: type, how many, how many open, oldest and newest detection; a total under several. */
export const formatExceptionsByType = (types: readonly ExceptionsOfType[]): string[] => {
  const sum = (of: (t: ExceptionsOfType) => number): number => types.reduce((n, t) => n + of(t), 0);
  const times = (of: (t: ExceptionsOfType) => string | null): string[] =>
    types.map(of).filter((t): t is string => t !== null);
  const [oldest] = times((t) => t.oldest).sort();
  const newest = times((t) => t.newest)
    .sort()
    .at(-1);
  return alignColumns(
    [
      ['type', 'count', 'open', 'oldest', 'newest'],
      ...[
        ...types,
        ...(types.length > 1
          ? [
              {
                type: 'total',
                count: sum((t) => t.count),
                open: sum((t) => t.open),
                oldest: oldest ?? null,
                newest: newest ?? null,
              },
            ]
          : []),
      ].map((t) => [
        t.type,
        formatCount(t.count),
        formatCount(t.open),
        shortTime(t.oldest),
        shortTime(t.newest),
      ]),
    ],
    [1, 2],
  );
};

/**
 * `order-tracking exceptions list`: counts per type by default, the rows newest first with
 * `--rows` (or `--id`, `--order`); read-only, no lease. While a run holds an embedded warehouse's
 * file, lists from the snapshot the last run left (its counts, its newest rows), and says so.
 */
export const listExceptions = async (settings: Settings, flags: ListFlags): Promise<string> => {
  const request = parseListFlags(flags);
  const { view, filter, limit, json } = request;
  const reading = await openForReading(settings);
  if ('snapshot' in reading)
    return view === 'rows'
      ? listSnapshot(reading.snapshot, reading.holder, request)
      : listSnapshotByType(reading.snapshot, reading.holder, request);
  const { warehouse } = reading;
  try {
    const d = warehouse.dialect;
    if (view === 'byType') {
      const types = await withConnection(warehouse, async (c) => {
        const grouped = planExceptionsByType(d, settings.schemas, filter);
        return exceptionsByType(await c.query(grouped.sql, grouped.params));
      });
      return formatByType(types, request, null);
    }
    const { rows, total } = await withConnection(warehouse, async (c) => {
      const list = planListExceptions(d, settings.schemas, filter, limit);
      const counted = planCountExceptions(d, settings.schemas, filter);
      return {
        rows: await c.query<ExceptionRow>(list.sql, list.params),
        total: Number((await c.query(counted.sql, counted.params))[0]?.n ?? 0),
      };
    });
    if (json) return JSON.stringify({ view, total, limit, exceptions: rows, snapshot: null });
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

/** What the JSON of a list read from a snapshot says about it. */
const snapshotJson = (snapshot: StatusSnapshot, holder: ActiveLease) => ({
  takenAt: snapshot.takenAt,
  activeRun: holder,
  rows: snapshot.exceptions.newest.length,
  ledgerRows: snapshot.exceptions.total,
});

/**
 * The counts-per-type view, live or from a snapshot (`snapshot`: its JSON description and the
 * line above the table): the table, then how many match and how to see them.
 */
const formatByType = (
  types: readonly ExceptionsOfType[],
  { filter, json }: ListRequest,
  snapshot: { readonly json: ReturnType<typeof snapshotJson>; readonly line: string } | null,
): string => {
  const total = types.reduce((n, t) => n + t.count, 0);
  const open = types.reduce((n, t) => n + t.open, 0);
  if (json)
    return JSON.stringify({ view: 'byType', total, open, byType: types, snapshot: snapshot?.json ?? null });
  const first = snapshot ? [snapshot.line] : [];
  const what = filterText(filter);
  if (types.length === 0) return [...first, `no exception matches${what ? ` ${what}` : ''}`].join('\n');
  const counted = filter.openOnly
    ? `${formatCount(total)} open`
    : `${formatCount(total)} matching, ${formatCount(open)} open`;
  return [...first, ...formatExceptionsByType(types), `${counted}; --rows lists them, newest first`].join(
    '\n',
  );
};

/** `exceptions list` by type from a snapshot: its counts are the whole ledger's when it was taken. */
const listSnapshotByType = (snapshot: StatusSnapshot, holder: ActiveLease, request: ListRequest): string =>
  formatByType(snapshotExceptionsByType(snapshot, request.filter), request, {
    json: snapshotJson(snapshot, holder),
    line: activeRunLine(holder, snapshot.takenAt),
  });

/**
 * `exceptions list --rows` from a snapshot: the same filters over the rows it holds. `total` counts
 * the matches among them; `snapshot.rows` and `snapshot.ledgerRows` say whether that is the whole ledger.
 */
const listSnapshot = (
  snapshot: StatusSnapshot,
  holder: ActiveLease,
  { view, filter, limit, json }: ListRequest,
): string => {
  const matching = snapshotExceptions(snapshot, filter);
  const rows = matching.slice(0, limit);
  const held = snapshot.exceptions.newest.length;
  const ledgerRows = snapshot.exceptions.total;
  if (json)
    return JSON.stringify({
      view,
      total: matching.length,
      limit,
      exceptions: rows,
      snapshot: snapshotJson(snapshot, holder),
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
        const { resolved: n, matching } = await resolveOpenExceptions(c, d, settings.schemas, filter, note);
        if (n > 0) return n;
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
