import type { Settings } from '../../config/settings.js';
import type { Source } from '../../engines/source/source.js';
import type { Dialect, WarehouseConnection } from '../../engines/warehouse/warehouse.js';
import { exceptionsByType, planOpenExceptionsByType } from '../exceptions.js';
import { marts } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { groupSteps } from '../monitor/report.js';
import type { Statement } from '../statement.js';
import { rawTableName, sourceTables } from '../tables.js';
import { readWatermarks, resetWatermarkHint } from '../watermarks.js';
import { watermarkAhead } from '../windows.js';
import {
  histTablesByPeriod,
  planLatestRunOfKind,
  planListTables,
  planRecentRuns,
  planRowCounts,
} from './sql.js';
import {
  ESTIMATED_FROM,
  type HistPeriod,
  type LastMonitor,
  type MonitorStepLine,
  type OpenExceptions,
  type RunLine,
  type StatusReport,
  type TableCount,
  type WatermarkLine,
} from './types.js';

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

/** A task as a run's summary records it (`RunSummary.tasks`), read defensively: it is stored text. */
interface SummaryTask {
  readonly task: string;
  readonly state: string;
  readonly seconds: number;
  readonly findings: number;
  readonly note: string | null;
  readonly error: string | null;
}

const summaryTasks = (summary: string | null): SummaryTask[] => {
  if (!summary) return [];
  let tasks: unknown;
  try {
    tasks = (JSON.parse(summary) as { tasks?: unknown } | null)?.tasks;
  } catch {
    return [];
  }
  if (!Array.isArray(tasks)) return [];
  return tasks.flatMap((t: Record<string, unknown> | null): SummaryTask[] =>
    t && typeof t.task === 'string'
      ? [
          {
            task: t.task,
            state: typeof t.state === 'string' ? t.state : 'unknown',
            seconds: typeof t.seconds === 'number' ? t.seconds : 0,
            findings: typeof t.findings === 'number' ? t.findings : 0,
            note: typeof t.note === 'string' ? t.note : null,
            error: typeof t.error === 'string' ? t.error : null,
          },
        ]
      : [],
  );
};

/** A monitor run's tasks grouped into its steps, from the run's stored summary. */
export const monitorStepLines = (summary: string | null): MonitorStepLine[] =>
  groupSteps(summaryTasks(summary)).map(({ details: _d, ...step }) => step);

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

  const [monitored] = await run(planLatestRunOfKind(d, schemas, 'monitor'));
  let lastMonitor: LastMonitor | null = null;
  if (monitored) {
    const startedAt = str(monitored.started_at);
    const endedAt = str(monitored.ended_at);
    const summary = str(monitored.summary);
    const steps = monitored.state === 'running' ? [] : monitorStepLines(summary);
    lastMonitor = {
      runId: Number(monitored.run_id),
      state: String(monitored.state),
      startedAt,
      endedAt,
      seconds: monitored.state === 'running' ? null : runSeconds(summary, startedAt, endedAt),
      error: firstLine(str(monitored.error)),
      findings: steps.reduce((n, s) => n + s.findings, 0),
      steps,
    };
  }

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
    ? exceptionsByType(await run(planOpenExceptionsByType(d, schemas))).map((e) => ({
        type: e.type,
        count: e.count,
        oldest: e.oldest,
        newest: e.newest,
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
    lastMonitor,
  };
};
