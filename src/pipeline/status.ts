import type { Schemas, Settings } from '../config/settings.js';
import type { Source } from '../engines/source/source.js';
import type { ActiveLease, Dialect, WarehouseConnection } from '../engines/warehouse/warehouse.js';
import { planOpenExceptionsByType } from './exceptions.js';
import { histTablePattern, marts, type MartName } from './marts.js';
import { exceptionsTable, metaTables } from './meta.js';
import type { Statement } from './statement.js';
import { readWatermarks, resetWatermarkHint } from './watermarks.js';
import { watermarkAhead } from './windows.js';
import { rawTableName, sourceTables, type SourceTableName } from './tables.js';

/** How many runs `status` shows. */
export const RECENT_RUNS = 10;

export interface RunLine {
  readonly runId: number;
  readonly kind: string;
  readonly state: string;
  /** ISO-8601 UTC. */
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** `null` while running (or when a crashed run never recorded its end). */
  readonly seconds: number | null;
  /** The error's first line. */
  readonly error: string | null;
}

export interface WatermarkLine {
  readonly table: SourceTableName;
  readonly cursorColumn: string;
  readonly kind: 'id' | 'time';
  /** `null`: no validated batch yet. Exact (`--json`: a number while exact, else its text). */
  readonly value: bigint | null;
  readonly updatedAt: string | null;
  /** `time` cursors: now − watermark, seconds (negative: the watermark is ahead of the clock). */
  readonly lagSeconds: number | null;
  /** With a source configured: its greatest cursor value now. */
  readonly sourceMax: bigint | null;
  /** `id` cursors: how far the watermark trails the source's max id. */
  readonly idsBehind: bigint | null;
  /** `time` cursors: the watermark is ahead of the clock, so the next run stops with this fix. */
  readonly ahead: string | null;
  /** Why a value is missing (a changed cursor, an unreadable source). */
  readonly note: string | null;
}

export interface TableCount {
  readonly schema: string;
  readonly table: string;
  readonly exists: boolean;
  /** 0 when the table does not exist. */
  readonly rows: number;
  /** `rows` is the server's estimate, not a count (`ESTIMATED_FROM`). */
  readonly estimated: boolean;
}

/**
 * Tables the server estimates at this many rows or more are reported by the estimate (marked as
 * such) instead of counted: on PostgreSQL `count(*)` reads the table whole, seconds at bench SF 1
 * and minutes for a production mart, where `status` is what one runs to look around.
 */
export const ESTIMATED_FROM = 1_000_000;

export interface HistTable extends TableCount {
  readonly mart: MartName;
}

export interface HistPeriod {
  /** `2025_h2`. */
  readonly period: string;
  readonly rows: number;
  /** Some of the period's tables are estimated. */
  readonly estimated: boolean;
  readonly tables: readonly HistTable[];
}

export interface OpenExceptions {
  readonly type: string;
  readonly count: number;
  readonly oldest: string | null;
}

/** Everything `order-tracking status` reports (SPEC §8); `--json` prints it as is. */
export interface StatusReport {
  readonly warehouse: string;
  /** The clock lags are measured against, epoch seconds. */
  readonly now: number;
  readonly source: {
    readonly url: string;
    readonly error: string | null;
    /** The source server's clock, epoch seconds, when it could be read. */
    readonly clock: number | null;
    /** Its clock minus ours, seconds (negative: behind ours). */
    readonly clockSkew: number | null;
    /**
     * Set when the clocks differ by more than a time cursor's overlap: rows stamped ahead of our
     * clock wait for it to catch up (a day ahead: FUTURE_TIMESTAMP), and lags mislead.
     */
    readonly clockWarning: string | null;
  } | null;
  readonly runs: readonly RunLine[];
  readonly watermarks: readonly WatermarkLine[];
  readonly tables: { readonly raw: readonly TableCount[]; readonly marts: readonly TableCount[] };
  readonly hist: readonly HistPeriod[];
  readonly exceptions: { readonly open: number; readonly byType: readonly OpenExceptions[] };
  /** A run holding the pipeline's lease as `status` read (SPEC §7), or `null`; set by the reader. */
  readonly activeRun?: ActiveLease | null;
  /**
   * Set when this is the last snapshot rather than a live read: a run held the embedded
   * warehouse's file, so it could not be opened. `takenAt` is when the snapshot was written.
   */
  readonly snapshot?: { readonly takenAt: string } | null;
}

/** The last `limit` runs, newest first. */
export const planRecentRuns = (d: Dialect, schemas: Schemas, limit = RECENT_RUNS): Statement => {
  const t = metaTables(schemas).runs;
  return {
    sql: `select run_id, kind, state, started_at, ended_at, error, summary
  from ${d.table(t.schema, t.name)}
 order by run_id desc
 limit $1`,
    params: [limit],
  };
};

/** Base tables of some schemas in the current database (information_schema: DuckDB, PostgreSQL, Redshift). */
export const planListTables = (schemas: readonly string[]): Statement => ({
  sql: `select table_schema, table_name
  from information_schema.tables
 where table_catalog = current_database()
   and table_type = 'BASE TABLE'
   and table_schema in (${schemas.map((_, i) => `$${i + 1}`).join(', ')})
 order by table_schema, table_name`,
  params: [...schemas],
});

/** `count(*)` of each table in one round trip; row `i` of the result is `tables[i]`. */
export const planRowCounts = (
  d: Dialect,
  tables: readonly { readonly schema: string; readonly table: string }[],
): Statement => ({
  sql: tables
    .map((t, i) => `select ${i} as i, count(*) as n from ${d.table(t.schema, t.table)}`)
    .join('\nunion all\n'),
  params: [],
});

/** The hist tables among a schema's tables, grouped by period, oldest period first (SPEC §2, §4). */
export const histTablesByPeriod = (
  tableNames: readonly string[],
): { readonly period: string; readonly tables: readonly { mart: MartName; table: string }[] }[] => {
  const byPeriod = new Map<string, { mart: MartName; table: string }[]>();
  for (const spec of marts) {
    const pattern = histTablePattern(spec);
    for (const table of tableNames) {
      const period = pattern.exec(table)?.[1];
      if (period === undefined) continue;
      byPeriod.set(period, [...(byPeriod.get(period) ?? []), { mart: spec.name, table }]);
    }
  }
  return [...byPeriod.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, tables]) => ({ period, tables }));
};

/** A run's duration: the summary's own measure when recorded, else end − start. */
const runSeconds = (
  summary: string | null,
  startedAt: string | null,
  endedAt: string | null,
): number | null => {
  if (summary) {
    try {
      const seconds = (JSON.parse(summary) as { seconds?: unknown }).seconds;
      if (typeof seconds === 'number') return seconds;
    } catch {
      // a summary that is not JSON falls back to the timestamps
    }
  }
  if (!startedAt || !endedAt) return null;
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) ? ms / 1000 : null;
};

const firstLine = (text: string | null): string | null =>
  text === null ? null : (text.split('\n')[0] ?? '');

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export interface StatusFacts {
  readonly settings: Settings;
  /** The warehouse URL, redacted. */
  readonly warehouseUrl: string;
  readonly now: number;
  /**
   * The configured source, to measure `id` cursors against (`null`: none configured). `open` is
   * `null` and `error` says why when it could not be opened; status reports that and goes on.
   */
  readonly source: {
    readonly url: string;
    readonly open: Source | null;
    readonly error: string | null;
  } | null;
}

/**
 * Reads the status report on one session. Read-only: no lease, no writes. Marts and hist tables
 * that do not exist yet count as absent, never as an error.
 */
export const readStatus = async (
  c: WarehouseConnection,
  d: Dialect,
  facts: StatusFacts,
): Promise<StatusReport> => {
  const { settings, now } = facts;
  const { schemas } = settings;
  const run = async (s: Statement) => c.query(s.sql, s.params);

  const runs: RunLine[] = (await run(planRecentRuns(d, schemas))).map((r) => {
    const startedAt = str(r.started_at);
    const endedAt = str(r.ended_at);
    return {
      runId: Number(r.run_id),
      kind: String(r.kind),
      state: String(r.state),
      startedAt,
      endedAt,
      seconds: r.state === 'running' ? null : runSeconds(str(r.summary), startedAt, endedAt),
      error: firstLine(str(r.error)),
    };
  });

  const marks = await readWatermarks(c, d, settings);
  const source = facts.source?.open ?? null;
  const watermarks: WatermarkLine[] = [];
  for (const spec of sourceTables) {
    const cursor = settings.cursors[spec.name];
    const mark = marks.get(spec.name);
    const stale = mark !== undefined && mark.current === null;
    const value = mark?.current?.value ?? null;
    let sourceMax: bigint | null = null;
    let note: string | null = stale
      ? `watermark is on ${mark.cursorColumn}, cursor is now ${cursor.column}: the next run reads the table again`
      : null;
    if (source && !stale) {
      try {
        sourceMax = await source.max(spec.name, cursor.column);
      } catch (error) {
        note = `source max unreadable: ${firstLine(error instanceof Error ? error.message : String(error))}`;
      }
    }
    const watermark = mark?.current ?? null;
    watermarks.push({
      table: spec.name,
      cursorColumn: cursor.column,
      kind: cursor.kind,
      value,
      updatedAt: mark?.updatedAt ?? null,
      lagSeconds: cursor.kind === 'time' && value !== null ? now - Number(value) : null,
      sourceMax,
      idsBehind:
        cursor.kind === 'id' && value !== null && sourceMax !== null
          ? sourceMax > value
            ? sourceMax - value
            : 0n
          : null,
      ahead: watermarkAhead(cursor, watermark, now)
        ? resetWatermarkHint(spec.name, cursor, watermark, now)
        : null,
      note,
    });
  }
  let clock: number | null = null;
  if (source)
    try {
      clock = await source.clock();
    } catch {
      // An unreadable clock is not worth a failed status: it shows as unknown.
    }
  const skew = clock === null ? null : clock - now;
  const overlaps = sourceTables
    .map((t) => settings.cursors[t.name])
    .filter((cursor) => cursor.kind === 'time')
    .map((cursor) => cursor.overlap);
  const overlap = overlaps.length > 0 ? Math.min(...overlaps) : null;

  const listed = await run(planListTables([...new Set([schemas.raw, schemas.mart])]));
  const present = new Set(listed.map((r) => `${String(r.table_schema)}.${String(r.table_name)}`));
  const martTableNames = listed
    .filter((r) => r.table_schema === schemas.mart)
    .map((r) => String(r.table_name));

  const rawTables = sourceTables.map((t) => ({ schema: schemas.raw, table: rawTableName(t.name) }));
  const martTables = marts.map((m) => ({ schema: schemas.mart, table: m.table }));
  const periods = histTablesByPeriod(martTableNames);
  const histTables = periods.flatMap((p) => p.tables.map((t) => ({ schema: schemas.mart, ...t })));

  const all = [...rawTables, ...martTables, ...histTables];
  const existing = all.filter((t) => present.has(`${t.schema}.${t.table}`));
  const estimates = new Map<string, number>();
  const estimating = existing.length > 0 ? d.rowEstimates(existing) : null;
  if (estimating)
    for (const r of await run(estimating)) {
      const n = Number(r.n);
      if (n >= ESTIMATED_FROM)
        estimates.set(`${String(r.table_schema)}.${String(r.table_name)}`, Math.round(n));
    }
  const toCount = existing.filter((t) => !estimates.has(`${t.schema}.${t.table}`));
  const counts = new Map<string, number>();
  if (toCount.length > 0)
    for (const r of await run(planRowCounts(d, toCount))) {
      const t = toCount[Number(r.i)];
      if (t) counts.set(`${t.schema}.${t.table}`, Number(r.n));
    }
  const counted = (t: { schema: string; table: string }): TableCount => {
    const key = `${t.schema}.${t.table}`;
    const estimate = estimates.get(key);
    return {
      schema: t.schema,
      table: t.table,
      exists: present.has(key),
      rows: estimate ?? counts.get(key) ?? 0,
      estimated: estimate !== undefined,
    };
  };

  const hist: HistPeriod[] = periods.map((p) => {
    const tables = p.tables.map((t) => ({
      ...counted({ schema: schemas.mart, table: t.table }),
      mart: t.mart,
    }));
    return {
      period: p.period,
      rows: tables.reduce((n, t) => n + t.rows, 0),
      estimated: tables.some((t) => t.estimated),
      tables,
    };
  });

  const exceptions = exceptionsTable(schemas);
  const byType: OpenExceptions[] = present.has(`${exceptions.schema}.${exceptions.name}`)
    ? (await run(planOpenExceptionsByType(d, schemas))).map((r) => ({
        type: str(r.exception_type) ?? '(no type)',
        count: Number(r.n),
        oldest: str(r.oldest),
      }))
    : [];

  return {
    warehouse: facts.warehouseUrl,
    now,
    source: facts.source && {
      url: facts.source.url,
      error: facts.source.error,
      clock,
      clockSkew: skew,
      clockWarning:
        skew !== null && overlap !== null && Math.abs(skew) > overlap
          ? `the source's clock is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} ours, more than the ${overlap} s overlap of its time cursor: ${skew < 0 ? "windows follow the rows' own stamps, so nothing is lost, but lags read high" : 'rows it stamps now wait until our clock reaches them (more than a day ahead: FUTURE_TIMESTAMP)'}; check both clocks (NTP)`
          : null,
    },
    runs,
    watermarks,
    tables: { raw: rawTables.map(counted), marts: martTables.map(counted) },
    hist,
    exceptions: { open: byType.reduce((n, t) => n + t.count, 0), byType },
  };
};
