/**
 * The dashboard's JSON reads and its one write (resolving exceptions), SPEC §7. Every read goes
 * through `context.warehouse` on a session of its own: pooled on PostgreSQL, and on DuckDB the one
 * in-process instance `serve` shares with its runs (reads see the last committed state beside a
 * running cycle). The SQL is the status and exceptions commands' own where they have it
 * (`readStatus`, `planListExceptions`, `planResolveExceptions`…); the few reads they lack (the run
 * ledger filtered, a run's tasks, the cycles of the last days, the DQ results) are written here
 * with the dialect's quoting. Nothing here returns settings whole or a URL but the redacted one.
 */
import type { Settings } from '../config/settings.js';
import type { Value } from '../engines/types.js';
import {
  withConnection,
  type Dialect,
  type Lease,
  type ResultRow,
  type WarehouseConnection,
} from '../engines/warehouse/warehouse.js';
import {
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
import { marts } from '../pipeline/marts.js';
import { metaTables } from '../pipeline/meta.js';
import { readStatus } from '../pipeline/status/read.js';
import type { HistPeriod, LastMonitor, OpenExceptions, TableCount } from '../pipeline/status/types.js';
import { leaseKey } from '../runner/run-cycle.js';
import type { NextSlots, ServeContext } from './context.js';

/** A request the API turns down: its HTTP status and a one-line reason (`{error}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** States the run ledger records (SPEC §7), for the runs filter. */
export const runStates = [
  'success',
  'failed',
  'timed_out',
  'skipped',
  'cancelled',
  'running',
  'abandoned',
  'interrupted',
] as const;

/** States of a run that ended without doing its work. */
const failedStates = new Set(['failed', 'timed_out', 'abandoned', 'interrupted', 'cancelled']);

/** Rows a page of runs or exceptions holds at most. */
export const MAX_ROWS = 1000;
/** Cycles the history charts take at most (7 days of 15-minute cycles is 672). */
const MAX_HISTORY = 2000;
/** `notes` is varchar(512): leave room for what the pipeline wrote there (as `exceptions resolve`). */
export const MAX_NOTE = 256;
/** How long a resolve waits for a running cycle to release the pipeline's lease. */
const LEASE_WAIT_MS = 15_000;

const text = (v: Value | undefined): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: Value | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const firstLine = (s: string | null): string | null => (s === null ? null : (s.split('\n')[0] ?? ''));

const secondsBetween = (from: string | null, to: string | null): number | null => {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? ms / 1000 : null;
};

/** `timestamp` literal text (no zone: the ledger's timestamps are UTC without one). */
const timestampText = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** Warehouse sessions the dashboard's reads hold at once, per serve: the rest of the pool is the runs'. */
const MAX_READS = 2;
const readSlots = new WeakMap<ServeContext, { active: number; waiting: (() => void)[] }>();

/**
 * Runs `fn` on a session of its own once fewer than `MAX_READS` dashboard reads hold one: however
 * many pages are open, a cycle beside them still finds sessions in the pool (PostgreSQL's holds 6).
 */
const reading = async <T>(context: ServeContext, fn: (c: WarehouseConnection) => Promise<T>): Promise<T> => {
  let slots = readSlots.get(context);
  if (!slots) {
    slots = { active: 0, waiting: [] };
    readSlots.set(context, slots);
  }
  while (slots.active >= MAX_READS) await new Promise<void>((resolve) => slots.waiting.push(resolve));
  slots.active++;
  try {
    return await withConnection(context.warehouse, fn);
  } finally {
    slots.active--;
    slots.waiting.shift()?.();
  }
};

const read = async (c: WarehouseConnection, s: { sql: string; params: readonly Value[] }) =>
  c.query(s.sql, s.params);

// ---------------------------------------------------------------------------------------------
// The run ledger

/** One row of the runs ledger as the dashboard shows it. */
export interface RunRow {
  readonly runId: number;
  readonly kind: string;
  readonly state: string;
  /** `schedule` (serve), `manual` (run, monitor), `task` (task <name>); `null` before it was recorded. */
  readonly triggeredBy: string | null;
  /** ISO-8601 UTC. */
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** `null` while running or when it never recorded its end. */
  readonly seconds: number | null;
  /** The error's first line. */
  readonly error: string | null;
}

const runColumns = 'run_id, kind, state, started_at, ended_at, error, triggered_by';

const runRow = (r: ResultRow): RunRow => {
  const startedAt = text(r.started_at);
  const endedAt = text(r.ended_at);
  return {
    runId: Number(r.run_id),
    kind: String(r.kind),
    state: String(r.state),
    triggeredBy: text(r.triggered_by),
    startedAt,
    endedAt,
    seconds: r.state === 'running' ? null : secondsBetween(startedAt, endedAt),
    error: firstLine(text(r.error)),
  };
};

const runsTable = (d: Dialect, settings: Settings): string => {
  const t = metaTables(settings.schemas).runs;
  return d.table(t.schema, t.name);
};

const tasksTable = (d: Dialect, settings: Settings): string => {
  const t = metaTables(settings.schemas).taskInstances;
  return d.table(t.schema, t.name);
};

/** Which runs a page of the ledger shows. */
export interface RunsQuery {
  readonly state?: string;
  readonly kind?: string;
  /** Runs with a smaller id (the next page, newest first). */
  readonly before?: number;
  readonly limit: number;
}

export interface RunsPage {
  readonly runs: readonly RunRow[];
  /** Runs per state over the whole ledger (the filter's counts). */
  readonly states: Readonly<Record<string, number>>;
  /** Kinds the ledger holds. */
  readonly kinds: readonly string[];
  /** The `before` of the next page, or `null` when this one is the last. */
  readonly next: number | null;
}

const planRuns = (d: Dialect, settings: Settings, q: RunsQuery) => {
  const params: Value[] = [];
  const clauses: string[] = [];
  const bind = (clause: (at: string) => string, value: Value) => {
    params.push(value);
    clauses.push(clause(`$${params.length}`));
  };
  if (q.state !== undefined) bind((at) => `state = ${at}`, q.state);
  if (q.kind !== undefined) bind((at) => `kind = ${at}`, q.kind);
  if (q.before !== undefined) bind((at) => `run_id < ${at}`, q.before);
  // One row more than the page: whether there is a next page.
  return {
    sql: `select ${runColumns}
  from ${runsTable(d, settings)}
 ${clauses.length > 0 ? `where ${clauses.join(' and ')}` : ''}
 order by run_id desc
 limit ${q.limit + 1}`,
    params,
  };
};

/** A page of the run ledger, newest first, with the counts per state the filter shows. */
export const readRuns = async (context: ServeContext, q: RunsQuery): Promise<RunsPage> =>
  reading(context, async (c) => {
    const d = context.warehouse.dialect;
    const rows = (await read(c, planRuns(d, context.settings, q))).map(runRow);
    const grouped = await c.query(
      `select kind, state, count(*) as n from ${runsTable(d, context.settings)} group by kind, state`,
    );
    const states: Record<string, number> = {};
    const kinds = new Set<string>();
    for (const r of grouped) {
      const state = String(r.state);
      states[state] = (states[state] ?? 0) + Number(r.n);
      kinds.add(String(r.kind));
    }
    const page = rows.slice(0, q.limit);
    return {
      runs: page,
      states,
      kinds: [...kinds].sort(),
      next: rows.length > q.limit ? (page.at(-1)?.runId ?? null) : null,
    };
  });

/** One task of a run: its `task_instances` row, with the note and findings of the run's summary. */
export interface TaskRow {
  readonly task: string;
  readonly state: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly seconds: number | null;
  readonly rowsRead: number | null;
  readonly rowsWritten: number | null;
  /** Runs of the task (above 1: a transient failure made it run again); `null`: not recorded. */
  readonly attempts: number | null;
  readonly error: string | null;
  /** What the task did, as the run's summary says it (`+1723, archived 2025_h2 264`). */
  readonly note: string | null;
  readonly findings: number | null;
}

export interface RunDetail {
  readonly run: RunRow;
  readonly tasks: readonly TaskRow[];
}

/** The notes and findings per task of a run's stored summary, read defensively: it is stored text. */
const summaryNotes = (
  summary: string | null,
): Map<string, { note: string | null; findings: number | null }> => {
  const notes = new Map<string, { note: string | null; findings: number | null }>();
  if (!summary) return notes;
  let tasks: unknown;
  try {
    tasks = (JSON.parse(summary) as { tasks?: unknown } | null)?.tasks;
  } catch {
    return notes;
  }
  if (!Array.isArray(tasks)) return notes;
  for (const t of tasks as (Record<string, unknown> | null)[])
    if (t && typeof t.task === 'string')
      notes.set(t.task, {
        note: typeof t.note === 'string' ? t.note : null,
        findings: typeof t.findings === 'number' ? t.findings : null,
      });
  return notes;
};

const readRunOn = async (
  c: WarehouseConnection,
  d: Dialect,
  settings: Settings,
  runId: number,
): Promise<RunDetail | null> => {
  const [row] = await c.query(
    `select ${runColumns}, summary from ${runsTable(d, settings)} where run_id = $1`,
    [runId],
  );
  if (!row) return null;
  const notes = summaryNotes(text(row.summary));
  const tasks = await c.query(
    `select task, state, started_at, ended_at, seconds, rows_read, rows_written, error, attempts
  from ${tasksTable(d, settings)}
 where run_id = $1
 order by started_at, task`,
    [runId],
  );
  return {
    run: runRow(row),
    tasks: tasks.map((t) => {
      const task = String(t.task);
      return {
        task,
        state: String(t.state),
        startedAt: text(t.started_at),
        endedAt: text(t.ended_at),
        seconds: num(t.seconds),
        rowsRead: num(t.rows_read),
        rowsWritten: num(t.rows_written),
        attempts: num(t.attempts),
        error: firstLine(text(t.error)),
        note: notes.get(task)?.note ?? null,
        findings: notes.get(task)?.findings ?? null,
      };
    }),
  };
};

/** A run and its tasks; 404 when the ledger has no such run. */
export const readRun = async (context: ServeContext, runId: number): Promise<RunDetail> => {
  const detail = await reading(context, (c) =>
    readRunOn(c, context.warehouse.dialect, context.settings, runId),
  );
  if (!detail) throw new ApiError(404, `no run ${runId} in the ledger`);
  return detail;
};

// ---------------------------------------------------------------------------------------------
// Overview

export interface WatermarkLag {
  readonly table: string;
  readonly cursorColumn: string;
  readonly kind: 'id' | 'time';
  /** Exact, as text (ids may pass 2^53). */
  readonly value: string | null;
  readonly updatedAt: string | null;
  /** Time cursors: now − watermark, seconds. */
  readonly lagSeconds: number | null;
  readonly note: string | null;
}

export interface Health {
  /** `healthy` (green), `failing` (red), `unknown` (no cycle yet). */
  readonly status: 'healthy' | 'failing' | 'unknown';
  /** Why, one line each, the most important first. */
  readonly reasons: readonly string[];
}

export interface Overview {
  /** When this was read, ISO-8601 UTC. */
  readonly now: string;
  readonly warehouse: string;
  readonly startedAt: string;
  readonly schedule: { readonly cycle: string; readonly monitor: string; readonly timezone: string };
  readonly cycleIntervalSeconds: number;
  readonly nextSlots: NextSlots;
  readonly current: { readonly kind: string; readonly since: string } | null;
  /** A token is configured: the dashboard may resolve exceptions. */
  readonly writable: boolean;
  readonly health: Health;
  /** The latest cycle (`run`) of the ledger, whatever its state. */
  readonly lastCycle: RunRow | null;
  /** The latest successful cycle. */
  readonly lastSuccess: RunRow | null;
  readonly lastMonitor: Omit<LastMonitor, 'steps'> | null;
  readonly watermarks: readonly WatermarkLag[];
  readonly exceptions: { readonly open: number; readonly byType: readonly OpenExceptions[] };
  /** The latest cycle that ran its tasks (not running, not skipped), for the timeline. */
  readonly timeline: RunDetail | null;
}

const latestRunPlan = (d: Dialect, settings: Settings, where: string) =>
  `select ${runColumns}
  from ${runsTable(d, settings)}
 where ${where}
 order by run_id desc
 limit 1`;

/** How a state reads after a run's name: `cycle #12 succeeded`, `… timed out`. */
const stateWords: Readonly<Record<string, string>> = {
  success: 'succeeded',
  failed: 'failed',
  timed_out: 'timed out',
  abandoned: 'was abandoned',
  interrupted: 'was interrupted',
  cancelled: 'was cancelled',
  skipped: 'was skipped',
  running: 'is running',
};

/** How a finished run reads in the banner: `cycle #12 failed 4 min ago: …`. */
const runPhrase = (
  r: {
    kind: string;
    runId: number;
    state: string;
    endedAt: string | null;
    startedAt: string | null;
    error: string | null;
  },
  now: number,
): string => {
  const at = r.endedAt ?? r.startedAt;
  const ago = at === null ? '' : ` ${agoText(now - Date.parse(at) / 1000)}`;
  return `${r.kind === 'run' ? 'cycle' : r.kind} #${r.runId} ${stateWords[r.state] ?? r.state}${ago}${r.error ? `: ${r.error}` : ''}`;
};

/** `3 min ago`, as the page shows it (the banner's reasons are plain text). */
export const agoText = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 360) / 10} h ago`;
  return `${Math.round(s / 8640) / 10} days ago`;
};

/**
 * Green when the latest cycle that did its work succeeded and a cycle succeeded within two slots
 * (what `/readyz` allows); red when it failed, when no cycle succeeded for longer, or when the
 * latest daily monitor failed.
 */
export const healthOf = (
  facts: {
    readonly lastFinished: RunRow | null;
    readonly lastSuccess: RunRow | null;
    readonly lastMonitor: Omit<LastMonitor, 'steps'> | null;
    readonly cycleIntervalSeconds: number;
    readonly startedAt: string;
  },
  now: number,
): Health => {
  const reasons: string[] = [];
  const { lastFinished, lastSuccess, lastMonitor } = facts;
  if (lastFinished && failedStates.has(lastFinished.state)) reasons.push(runPhrase(lastFinished, now));
  // A grace of a minute past two slots: a cycle takes time to run after its slot.
  const allowed = 2 * facts.cycleIntervalSeconds + 60;
  const successAt = lastSuccess?.endedAt ?? lastSuccess?.startedAt ?? null;
  const since = successAt === null ? null : now - Date.parse(successAt) / 1000;
  const servingFor = now - Date.parse(facts.startedAt) / 1000;
  if (since !== null && since > allowed)
    reasons.push(
      `no cycle has succeeded for ${agoText(since).replace(' ago', '')} (two slots allow ${agoText(allowed).replace(' ago', '')})`,
    );
  else if (since === null && lastFinished !== null && servingFor > allowed)
    reasons.push('no cycle has succeeded yet');
  if (lastMonitor && failedStates.has(lastMonitor.state))
    reasons.push(runPhrase({ kind: 'monitor', ...lastMonitor }, now));
  if (reasons.length > 0) return { status: 'failing', reasons };
  if (!lastSuccess) return { status: 'unknown', reasons: ['no cycle has run yet'] };
  return { status: 'healthy', reasons: [runPhrase(lastSuccess, now)] };
};

/** Is the pipeline healthy, what ran last, how far behind each table is, what runs next. */
export const readOverview = async (context: ServeContext): Promise<Overview> => {
  const { settings, warehouse } = context;
  const d = warehouse.dialect;
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  return reading(context, async (c) => {
    const status = await readStatus(c, d, {
      settings,
      warehouseUrl: warehouse.displayUrl,
      now,
      source: null,
    });
    const one = async (where: string, params: Value[] = []) => {
      const [r] = await c.query(latestRunPlan(d, settings, where), params);
      return r ? runRow(r) : null;
    };
    const lastCycle = await one(`kind = 'run'`);
    const lastSuccess = await one(`kind = 'run' and state = 'success'`);
    const lastFinished = await one(`kind = 'run' and state not in ('running', 'skipped')`);
    const timeline = lastFinished ? await readRunOn(c, d, settings, lastFinished.runId) : null;
    const lastMonitor = status.lastMonitor && {
      runId: status.lastMonitor.runId,
      state: status.lastMonitor.state,
      startedAt: status.lastMonitor.startedAt,
      endedAt: status.lastMonitor.endedAt,
      seconds: status.lastMonitor.seconds,
      error: status.lastMonitor.error,
      findings: status.lastMonitor.findings,
    };
    return {
      now: new Date(nowMs).toISOString(),
      warehouse: warehouse.displayUrl,
      startedAt: context.startedAt,
      schedule: { ...settings.schedule },
      cycleIntervalSeconds: context.cycleIntervalSeconds,
      nextSlots: context.nextSlots(5),
      current: context.current(),
      writable: settings.dashboard.token !== null,
      health: healthOf(
        {
          lastFinished,
          lastSuccess,
          lastMonitor,
          cycleIntervalSeconds: context.cycleIntervalSeconds,
          startedAt: context.startedAt,
        },
        now,
      ),
      lastCycle,
      lastSuccess,
      lastMonitor,
      watermarks: status.watermarks.map((w) => ({
        table: w.table,
        cursorColumn: w.cursorColumn,
        kind: w.kind,
        value: w.value === null ? null : w.value.toString(),
        updatedAt: w.updatedAt,
        lagSeconds: w.lagSeconds,
        note: w.ahead ?? w.note,
      })),
      exceptions: status.exceptions,
      timeline,
    };
  });
};

/** One cycle of the history charts. */
export interface CyclePoint {
  readonly runId: number;
  readonly state: string;
  readonly triggeredBy: string | null;
  readonly startedAt: string | null;
  readonly seconds: number | null;
  /** Rows the extract landed in raw. */
  readonly extracted: number | null;
  /** Rows the three marts wrote (inserted, replaced, archived). */
  readonly written: number | null;
}

export interface History {
  readonly days: number;
  /** The first instant the history covers, ISO-8601 UTC. */
  readonly since: string;
  /** Oldest first. */
  readonly cycles: readonly CyclePoint[];
  /** More cycles than the charts take: these are the newest `MAX_HISTORY`. */
  readonly truncated: boolean;
}

/** The cycles of the last `days` days: duration and rows per cycle. */
export const readHistory = async (context: ServeContext, days: number): Promise<History> => {
  const { settings, warehouse } = context;
  const d = warehouse.dialect;
  const sinceMs = Date.now() - days * 86_400_000;
  const martNames = marts.map((m) => m.name);
  const rows = await reading(context, (c) =>
    c.query(
      `select r.run_id, r.state, r.triggered_by, r.started_at, r.ended_at,
       sum(case when t.task = 'extract' then t.rows_written end) as extracted,
       sum(case when t.task in (${martNames.map((_, i) => `$${i + 2}`).join(', ')}) then t.rows_written end) as written
  from ${runsTable(d, settings)} r
  left join ${tasksTable(d, settings)} t on t.run_id = r.run_id
 where r.kind = 'run' and r.started_at >= cast($1 as timestamp)
 group by r.run_id, r.state, r.triggered_by, r.started_at, r.ended_at
 order by r.run_id desc
 limit ${MAX_HISTORY + 1}`,
      [timestampText(sinceMs), ...martNames],
    ),
  );
  const cycles = rows.slice(0, MAX_HISTORY).map((r) => {
    const startedAt = text(r.started_at);
    return {
      runId: Number(r.run_id),
      state: String(r.state),
      triggeredBy: text(r.triggered_by),
      startedAt,
      seconds: r.state === 'running' ? null : secondsBetween(startedAt, text(r.ended_at)),
      extracted: num(r.extracted),
      written: num(r.written),
    };
  });
  return {
    days,
    since: new Date(sinceMs).toISOString(),
    cycles: cycles.reverse(),
    truncated: rows.length > MAX_HISTORY,
  };
};

// ---------------------------------------------------------------------------------------------
// Tables and data quality

export interface DqResult {
  readonly runId: number;
  readonly check: string;
  readonly failing: number;
  /** Up to 10 failing order ids. */
  readonly sample: readonly string[];
  readonly checkedAt: string | null;
}

export interface Tables {
  readonly now: string;
  readonly raw: readonly TableCount[];
  readonly marts: readonly TableCount[];
  readonly hist: readonly HistPeriod[];
  readonly exceptions: { readonly open: number; readonly byType: readonly OpenExceptions[] };
  readonly lastMonitor: LastMonitor | null;
  /** The checks of the latest monitor run that recorded any. */
  readonly dq: readonly DqResult[];
}

/** Rows per raw table, mart and hist period, and the latest data-quality results. */
export const readTables = async (context: ServeContext): Promise<Tables> => {
  const { settings, warehouse } = context;
  const d = warehouse.dialect;
  return reading(context, async (c) => {
    const status = await readStatus(c, d, {
      settings,
      warehouseUrl: warehouse.displayUrl,
      now: Math.floor(Date.now() / 1000),
      source: null,
    });
    const t = metaTables(settings.schemas).dqResults;
    const dqTable = d.table(t.schema, t.name);
    const dq = await c.query(
      `select run_id, check_name, failing, sample, checked_at
  from ${dqTable}
 where run_id = (select max(run_id) from ${dqTable})
 order by check_name`,
    );
    return {
      now: new Date().toISOString(),
      raw: status.tables.raw,
      marts: status.tables.marts,
      hist: status.hist,
      exceptions: status.exceptions,
      lastMonitor: status.lastMonitor,
      dq: dq.map((r) => ({
        runId: Number(r.run_id),
        check: String(r.check_name),
        failing: Number(r.failing ?? 0),
        sample: (text(r.sample) ?? '').split(',').filter(Boolean),
        checkedAt: text(r.checked_at),
      })),
    };
  });
};

// ---------------------------------------------------------------------------------------------
// Exceptions

export interface ExceptionsQuery {
  readonly status: 'open' | 'resolved' | 'all';
  readonly type?: string;
  readonly orderId?: string;
  readonly limit: number;
}

export interface ExceptionsPage {
  /** Rows the filter matches, and how many of them are open. */
  readonly total: number;
  readonly open: number;
  /** The newest `limit` of them. */
  readonly rows: readonly ExceptionRow[];
  readonly limit: number;
  /** The whole ledger per type (the type filter's choices and counts). */
  readonly byType: readonly ExceptionsOfType[];
  /** A token is configured: rows can be resolved. */
  readonly writable: boolean;
}

const filterOf = (q: Pick<ExceptionsQuery, 'status' | 'type' | 'orderId'>): ExceptionFilter => ({
  ...(q.type !== undefined ? { type: q.type } : {}),
  ...(q.orderId !== undefined ? { orderId: q.orderId } : {}),
  openOnly: q.status === 'open',
  resolvedOnly: q.status === 'resolved',
});

/** The exceptions a filter matches, newest first, with their counts and the ledger's types. */
export const readExceptions = async (context: ServeContext, q: ExceptionsQuery): Promise<ExceptionsPage> => {
  const { settings, warehouse } = context;
  const d = warehouse.dialect;
  const filter = filterOf(q);
  return reading(context, async (c) => {
    const rows = await c.query<ExceptionRow>(
      ...args(planListExceptions(d, settings.schemas, filter, q.limit)),
    );
    const [counted] = await read(c, planCountExceptions(d, settings.schemas, filter));
    const byType = exceptionsByType(await read(c, planExceptionsByType(d, settings.schemas, {})));
    return {
      total: Number(counted?.n ?? 0),
      open: Number(counted?.open ?? 0),
      rows,
      limit: q.limit,
      byType,
      writable: settings.dashboard.token !== null,
    };
  });
};

const args = (s: { sql: string; params: readonly Value[] }): [string, readonly Value[]] => [s.sql, s.params];

/** What a resolve names: one exception by id, or every open one of a type (of one order). */
export type ResolveTarget = { readonly id: number } | { readonly type: string; readonly orderId?: string };

export interface ResolveResult {
  readonly resolved: number;
  readonly note: string;
}

/** Waits up to `LEASE_WAIT_MS` for the pipeline's lease: a resolve never races a cycle (SPEC §7). */
const waitForLease = async (context: ServeContext): Promise<Lease> => {
  const deadline = Date.now() + LEASE_WAIT_MS;
  for (;;) {
    const lease = await context.warehouse.tryLease(leaseKey(context.settings));
    if (lease) return lease;
    if (Date.now() >= deadline)
      throw new ApiError(409, 'a run has held the pipeline for 15 s; nothing was changed, try again');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

/**
 * Marks the open exceptions `target` names resolved, appending `note` to their notes, under the
 * pipeline's lease as `exceptions resolve` does. Resolving an ARCHIVE_ROUTING_GAP lets the next
 * cycle archive its row (SPEC §4). 404 when nothing matches, 409 when all that match are resolved.
 */
export const resolveExceptions = async (
  context: ServeContext,
  target: ResolveTarget,
  note: string,
): Promise<ResolveResult> => {
  const { settings, warehouse } = context;
  const d = warehouse.dialect;
  const filter: ExceptionFilter =
    'id' in target
      ? { id: target.id }
      : { type: target.type, ...(target.orderId !== undefined ? { orderId: target.orderId } : {}) };
  const lease = await waitForLease(context);
  try {
    return await withConnection(warehouse, async (c) => {
      const { resolved, matching } = await resolveOpenExceptions(c, d, settings.schemas, filter, note);
      if (resolved === 0) {
        const what = describeTarget(target);
        if (matching === 0) throw new ApiError(404, `no exception matches ${what}`);
        throw new ApiError(409, `${what}: already resolved, nothing was changed`);
      }
      return { resolved, note };
    });
  } finally {
    await lease.release();
  }
};

export const describeTarget = (target: ResolveTarget): string =>
  'id' in target
    ? `exception ${target.id}`
    : `type ${target.type}${target.orderId !== undefined ? ` and order ${target.orderId}` : ''}`;

// ---------------------------------------------------------------------------------------------
// Input checks: each names the field it turns down (400).

const bad = (message: string): ApiError => new ApiError(400, message);

/** A whole number in [min, max] from text (a query parameter) or a JSON number. */
export const wholeField = (raw: unknown, field: string, min: number, max: number): number => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw bad(`${field} must be a whole number between ${min} and ${max}`);
  return n;
};

/** An exception type as the ledger writes it (any case accepted, as the CLI does). */
export const typeField = (raw: unknown, field = 'type'): string => {
  const type = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
  if (!isExceptionType(type))
    throw bad(`${field} must be an exception type such as NULL_ORDER_ID or DQ_<check>`);
  return type;
};

/** An order id: non-empty, at most the column's 64 characters. */
export const orderField = (raw: unknown, field = 'order'): string => {
  if (typeof raw !== 'string' || raw.trim() === '' || raw.length > 64)
    throw bad(`${field} must be an order id of 1 to 64 characters`);
  return raw.trim();
};

/** A note: one line, 1 to `MAX_NOTE` characters. */
export const noteField = (raw: unknown): string => {
  const note = typeof raw === 'string' ? raw.trim() : '';
  if (note === '') throw bad('note is required: say why the exception is resolved');
  if (note.length > MAX_NOTE) throw bad(`note is ${note.length} characters long; keep it under ${MAX_NOTE}`);
  // eslint-disable-next-line no-control-regex -- control characters are what it turns down
  if (/[\r\n\u0000-\u001f]/.test(note)) throw bad('note must be one line of text');
  return note;
};

/** One of `choices`, or 400 naming the field and them. */
export const choiceField = <T extends string>(raw: unknown, field: string, choices: readonly T[]): T => {
  if (typeof raw === 'string' && (choices as readonly string[]).includes(raw)) return raw as T;
  throw bad(`${field} must be one of ${choices.join(', ')}`);
};

/** The body of `POST /api/exceptions/resolve`: `{id, note}` or `{type, order?, note}`. */
export const parseResolveBody = (body: unknown): { target: ResolveTarget; note: string } => {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad(
      'body must be a JSON object: {"id": 12, "note": "…"} or {"type": "…", "order": "…", "note": "…"}',
    );
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['id', 'type', 'order', 'note'].includes(k));
  if (unknown.length > 0) throw bad(`${unknown[0]} is not a field of a resolve (id, type, order, note)`);
  const has = (k: string) => b[k] !== undefined && b[k] !== null;
  if (has('id') && (has('type') || has('order')))
    throw bad('id: give either id, or type with an optional order');
  if (!has('id') && !has('type')) throw bad('id or type is required');
  if (has('order') && !has('type')) throw bad('order needs type');
  const target: ResolveTarget = has('id')
    ? { id: wholeField(b.id, 'id', 0, Number.MAX_SAFE_INTEGER) }
    : { type: typeField(b.type), ...(has('order') ? { orderId: orderField(b.order) } : {}) };
  return { target, note: noteField(b.note) };
};
