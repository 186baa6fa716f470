import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Settings } from '../../config/settings.js';
import type { Source } from '../../engines/source/source.js';
import { bigintAsJson } from '../../engines/types.js';
import { statusSnapshotPath } from '../../engines/warehouse/open.js';
import { withConnection, type Warehouse } from '../../engines/warehouse/warehouse.js';
import {
  exceptionsByType,
  planCountExceptions,
  planExceptionsByType,
  planListExceptions,
  type ExceptionFilter,
  type ExceptionRow,
  type ExceptionsOfType,
} from '../exceptions.js';
import { readStatus } from './read.js';
import type { StatusReport } from './types.js';

/** How many of the newest exceptions a snapshot keeps for `exceptions list`. */
export const SNAPSHOT_EXCEPTIONS = 100;

/**
 * What `status` and `exceptions list` show, saved by the lease holder (after `init` and at the end
 * of each run) for readers that cannot open the warehouse while the next run holds it: a DuckDB
 * run holds its file for its whole duration (SPEC §7).
 */
export interface StatusSnapshot {
  /** The file's format; a reader takes only the one it knows (2: with `lastMonitor`, `byType`). */
  readonly format: 2;
  /** When it was written, ISO-8601 UTC. */
  readonly takenAt: string;
  readonly report: StatusReport;
  readonly exceptions: {
    /** Rows in the ledger then, open or resolved. */
    readonly total: number;
    /** Its newest `SNAPSHOT_EXCEPTIONS` rows, newest first, as `exceptions list` reads them. */
    readonly newest: readonly ExceptionRow[];
    /**
     * The whole ledger per type, open or resolved, as `exceptions list` groups it (the open ones
     * alone are `report.exceptions.byType`).
     */
    readonly byType: readonly ExceptionsOfType[];
  };
}

/** Reads the snapshot the warehouse's lease holder would leave now (read-only). */
export const takeStatusSnapshot = async (
  warehouse: Warehouse,
  settings: Settings,
  facts: { readonly now: number; readonly source: Source | null },
): Promise<StatusSnapshot> =>
  withConnection(warehouse, async (c) => {
    const d = warehouse.dialect;
    const report = await readStatus(c, d, {
      settings,
      warehouseUrl: warehouse.displayUrl,
      now: facts.now,
      source: facts.source && { url: facts.source.displayUrl, open: facts.source, error: null },
    });
    const list = planListExceptions(d, settings.schemas, {}, SNAPSHOT_EXCEPTIONS);
    const counted = planCountExceptions(d, settings.schemas, {});
    const grouped = planExceptionsByType(d, settings.schemas, {});
    return {
      format: 2,
      takenAt: new Date().toISOString(),
      report,
      exceptions: {
        total: Number((await c.query(counted.sql, counted.params))[0]?.n ?? 0),
        newest: await c.query<ExceptionRow>(list.sql, list.params),
        byType: exceptionsByType(await c.query(grouped.sql, grouped.params)),
      },
    };
  });

/** Writes the snapshot atomically (a temporary file renamed over it): a reader never sees half. */
export const writeStatusSnapshot = async (path: string, snapshot: StatusSnapshot): Promise<void> => {
  const temporary = `${path}.${process.pid}.tmp`;
  const text = JSON.stringify(snapshot, bigintAsJson);
  try {
    await writeFile(temporary, `${text}\n`);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
};

/**
 * Takes and writes the warehouse's snapshot where its engine keeps one (`statusSnapshotPath`;
 * nowhere on a server). Never throws: a run or an init that did its work must not fail for its
 * snapshot; `log.warn` says why there is none.
 */
export const saveStatusSnapshot = async (
  warehouse: Warehouse,
  settings: Settings,
  facts: { readonly now: number; readonly source: Source | null },
  log: { warn(message: string): void },
): Promise<void> => {
  const path = statusSnapshotPath(settings.warehouse);
  if (path === null) return;
  try {
    await writeStatusSnapshot(path, await takeStatusSnapshot(warehouse, settings, facts));
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    log.warn(
      `status snapshot ${path} not written (status has nothing to show while a run holds the warehouse): ${reason}`,
    );
  }
};

/**
 * The snapshot at `path`, or `null` when none was written yet. A file that is not a snapshot this
 * version writes (damaged, another format) throws, naming the file.
 */
export const readStatusSnapshot = async (path: string): Promise<StatusSnapshot | null> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return null;
    throw new Error(`status snapshot ${path} cannot be read`, { cause: error });
  }
  let parsed: Partial<StatusSnapshot> | null = null;
  try {
    parsed = JSON.parse(text) as Partial<StatusSnapshot> | null;
  } catch {
    // reported below with the other ways a file can fail to be a snapshot
  }
  if (
    parsed?.format !== 2 ||
    !parsed.report ||
    !Array.isArray(parsed.exceptions?.byType) ||
    typeof parsed.takenAt !== 'string'
  )
    throw new Error(
      `status snapshot ${path} is not a snapshot this version writes (the next run rewrites it)`,
    );
  const snapshot = parsed as StatusSnapshot;
  // The exact integers went out as numbers or decimal text (`bigintAsJson`): bigints again.
  const exact = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(String(v)));
  return {
    ...snapshot,
    report: {
      ...snapshot.report,
      watermarks: snapshot.report.watermarks.map((w) => ({
        ...w,
        value: exact(w.value),
        sourceMax: exact(w.sourceMax),
        idsBehind: exact(w.idsBehind),
      })),
    },
  };
};

/**
 * The snapshot's exceptions per type that `filter` matches, over the whole ledger as it was: the
 * open ones from the report (`status`'s), all of them from the snapshot's own grouping.
 */
export const snapshotExceptionsByType = (
  snapshot: StatusSnapshot,
  filter: Pick<ExceptionFilter, 'type' | 'openOnly'>,
): readonly ExceptionsOfType[] =>
  (filter.openOnly
    ? snapshot.report.exceptions.byType.map((e) => ({
        type: e.type,
        count: e.count,
        open: e.count,
        oldest: e.oldest,
        newest: e.newest,
      }))
    : snapshot.exceptions.byType
  ).filter((e) => filter.type === undefined || e.type === filter.type);

/**
 * The snapshot's exceptions that `filter` matches, newest first: what `exceptions list` would read
 * from the ledger, among the rows the snapshot holds.
 */
export const snapshotExceptions = (
  snapshot: StatusSnapshot,
  filter: ExceptionFilter,
): readonly ExceptionRow[] =>
  snapshot.exceptions.newest.filter(
    (r) =>
      (filter.id === undefined || Number(r.exception_id) === filter.id) &&
      (filter.type === undefined || r.exception_type === filter.type) &&
      (filter.orderId === undefined || r.order_id === filter.orderId) &&
      (!filter.openOnly || r.resolved_at === null),
  );
