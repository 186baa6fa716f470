/**
 * The marts' contract (SPEC §4 retention and archive, §5 bad rows) as one check after a run.
 *
 * Every expectation is derived from the source database and the run's clock alone, with the rules
 * re-implemented here rather than imported from `src/` (an acceptance test must not trust the code
 * it tests). The warehouse is only read for what it actually holds. Violations come back grouped by
 * kind, each with a count and its first examples, so a failing scenario names the row and the rule.
 */
import type { EnginePair, Rows } from './engines.js';

/** SPEC §4: the marts' rolling window, 180 days. */
const RETENTION_SECONDS = 15_552_000;
/** SPEC §5: a timestamp more than one day after the run's clock is "in the future". */
const FUTURE_SECONDS = 86_400;
/** SPEC §3: uni_tracking_info is extracted up to `now − 60 s` only. */
const SETTLE_SECONDS = 60;
const MART_SCHEMA = 'settlement_ods';
const EXCEPTIONS_TABLE = 'order_tracking_exceptions';
/** Load metadata, not business content (SPEC §2). */
const LOAD_COLUMNS: ReadonlySet<string> = new Set(['_batch_id', '_loaded_at']);
/** Examples listed per kind of violation. */
const EXAMPLES = 10;
/** Name of the literal column that says which table a row was read from. */
const HOME = '_home';
const MART = 'mart';

type Row = Record<string, unknown>;

export type MartName = 'mart_uti' | 'mart_ecs' | 'mart_uts';

/** One mart as the tests see it (SPEC §2): lower-case warehouse column names throughout. */
export interface MartRule {
  readonly name: MartName;
  readonly table: string;
  readonly source: 'uni_tracking_info' | 'ecs_order_info' | 'uni_tracking_spath';
  readonly key: readonly string[];
  /** The event time: versions, future checks, retention and the hist period. */
  readonly ts: string;
  /** Version order, most recent first. */
  readonly version: readonly string[];
}

export const martRules: readonly MartRule[] = [
  {
    name: 'mart_uti',
    table: 'mart_uni_tracking_info',
    source: 'uni_tracking_info',
    key: ['order_id'],
    ts: 'update_time',
    version: ['update_time', 'id'],
  },
  {
    name: 'mart_ecs',
    table: 'mart_ecs_order_info',
    source: 'ecs_order_info',
    key: ['order_id'],
    ts: 'add_time',
    version: ['add_time', 'id'],
  },
  {
    name: 'mart_uts',
    table: 'mart_uni_tracking_spath',
    source: 'uni_tracking_spath',
    key: ['order_id', 'traceseq', 'pathtime'],
    ts: 'pathtime',
    version: ['id'],
  },
];

const rule = (name: MartName): MartRule => martRules.find((r) => r.name === name) as MartRule;
const uti = rule('mart_uti');
const ecs = rule('mart_ecs');
const uts = rule('mart_uts');

/** `2025_h2`: the half-year (UTC) an epoch-seconds timestamp falls in, as in hist table names. */
export const periodOf = (epoch: number): string => {
  const date = new Date(epoch * 1000);
  return `${date.getUTCFullYear()}_h${date.getUTCMonth() < 6 ? 1 : 2}`;
};

const histPattern = (r: MartRule): RegExp => new RegExp(`^hist_${r.source}_(\\d{4}_h[12])$`);

// ---------------------------------------------------------------------------------------------
// Values and messages

const norm = (v: unknown): unknown => (v === undefined ? null : typeof v === 'bigint' ? Number(v) : v);
const num = (v: unknown): number => Number(norm(v));
const show = (v: unknown): string => JSON.stringify(norm(v)) ?? String(v);
const iso = (epoch: number): string =>
  Number.isFinite(epoch) ? new Date(epoch * 1000).toISOString().replace('.000Z', 'Z') : String(epoch);
const when = (epoch: number): string => `${epoch} (${iso(epoch)})`;
const place = (home: string): string => (home === MART ? 'the mart' : `hist ${home}`);

// Hundreds of thousands of scans per check: keys are built without intermediate arrays.
const keyOf = (r: MartRule, row: Row): string =>
  r.key.length === 1
    ? String(norm(row[r.key[0] as string]))
    : `${String(norm(row.order_id))}\u0001${String(norm(row.traceseq))}\u0001${String(norm(row.pathtime))}`;
const labelOf = (r: MartRule, row: Row): string =>
  r.name === 'mart_uts'
    ? `${String(row.order_id)} traceseq ${show(row.traceseq)} pathtime ${when(num(row.pathtime))}`
    : `order ${String(row.order_id)}`;

/** True when `a` is a more recent version than `b` (version columns compared descending). */
const newer = (r: MartRule, a: Row, b: Row): boolean => {
  for (const c of r.version) {
    const x = num(a[c]);
    const y = num(b[c]);
    if (x !== y) return x > y;
  }
  return false;
};

/** Collects violations by kind and reports each kind once: count, then the first examples. */
class Violations {
  private readonly byKind = new Map<string, string[]>();

  add(kind: string, detail: string): void {
    const list = this.byKind.get(kind);
    if (list) list.push(detail);
    else this.byKind.set(kind, [detail]);
  }

  report(): string[] {
    return [...this.byKind].map(([kind, details]) => {
      const shown = details.slice(0, EXAMPLES).map((d) => `    - ${d}`);
      if (details.length > EXAMPLES) shown.push(`    … and ${details.length - EXAMPLES} more`);
      return `${kind} (${details.length})\n${shown.join('\n')}`;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading both sides

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const sourceIdent = (p: EnginePair, name: string): string =>
  p.sourceDialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : ident(name);

interface SourceTable {
  /** Lower-case column names, as the warehouse spells them. */
  readonly columns: readonly string[];
  /** Every row, keyed by the lower-case names. */
  readonly rows: Rows;
}

const readSource = async (p: EnginePair, table: string): Promise<SourceTable> => {
  const described =
    p.sourceDialect === 'sqlite'
      ? await p.source('select name from pragma_table_info(?) order by cid', [table])
      : await p.source(
          `select column_name as name from information_schema.columns
            where table_schema = database() and table_name = ? order by ordinal_position`,
          [table],
        );
  const names = described.map((d) => String(d.name));
  if (names.length === 0) throw new Error(`the source has no table ${table}`);
  const select = names.map((n) => `${sourceIdent(p, n)} as ${sourceIdent(p, n.toLowerCase())}`).join(', ');
  return {
    columns: names.map((n) => n.toLowerCase()),
    rows: await p.source(`select ${select} from ${sourceIdent(p, table)}`),
  };
};

/** Every table of the mart schema with its columns, in one query. */
const readLayout = async (p: EnginePair): Promise<Map<string, string[]>> => {
  const rows = await p.warehouse(
    `select table_name, column_name from information_schema.columns
      where table_schema = $1 order by table_name, ordinal_position`,
    [MART_SCHEMA],
  );
  const layout = new Map<string, string[]>();
  for (const r of rows) {
    const table = String(r.table_name);
    const columns = layout.get(table) ?? [];
    columns.push(String(r.column_name));
    layout.set(table, columns);
  }
  return layout;
};

interface Part {
  /** `mart` or a period name such as `2025_h1`. */
  readonly home: string;
  readonly table: string;
}

/** The mart table and its hist tables, the hist tables oldest period first. */
const partsOf = (r: MartRule, layout: ReadonlyMap<string, readonly string[]>): Part[] => {
  const parts: Part[] = layout.has(r.table) ? [{ home: MART, table: r.table }] : [];
  const pattern = histPattern(r);
  const hist = [...layout.keys()]
    .map((table) => ({ table, match: pattern.exec(table) }))
    .filter((t) => t.match !== null)
    .map((t) => ({ home: (t.match as RegExpExecArray)[1] as string, table: t.table }))
    .sort((a, b) => a.home.localeCompare(b.home));
  return [...parts, ...hist];
};

/**
 * All rows of several tables in one UNION ALL (DuckDB opens the file once per query), each with a
 * `_home` literal naming where it was read; a column a table lacks reads as NULL.
 */
const readParts = async (
  p: EnginePair,
  parts: readonly Part[],
  columns: readonly string[],
  layout: ReadonlyMap<string, readonly string[]>,
  label: (part: Part) => string = (part) => part.home,
): Promise<Rows> => {
  if (parts.length === 0) return [];
  const selects = parts.map((part) => {
    const has = new Set(layout.get(part.table));
    const list = columns.map((c) => (has.has(c) ? ident(c) : `null as ${ident(c)}`));
    return `select ${literal(label(part))} as ${HOME}, ${list.join(', ')} from ${MART_SCHEMA}.${ident(part.table)}`;
  });
  return p.warehouse(selects.join('\nunion all\n'));
};

// ---------------------------------------------------------------------------------------------
// Expectations

interface Expected {
  readonly label: string;
  /** The source version the warehouse must hold; `null` when it cannot be known (see `ids`). */
  readonly row: Row | null;
  /** `mart` or the period of the hist table; ignored when `row` is null. */
  readonly home: string;
  /** Why it belongs there, for messages (built only when one is needed). */
  readonly why: () => string;
  /** Source ids the warehouse row may carry when `row` is null. */
  readonly ids: ReadonlySet<number>;
}

const NO_IDS: ReadonlySet<number> = new Set();

const homeByCutoff = (ts: number, cutoff: number | null): string =>
  cutoff !== null && ts < cutoff ? periodOf(ts) : MART;
const whyByCutoff = (ts: number, cutoff: number | null) => (): string =>
  cutoff === null ? 'no cutoff yet' : `${when(ts)} ${ts < cutoff ? '<' : '>='} cutoff ${when(cutoff)}`;

/** Latest version per key among `rows`, skipping NULL keys and rows `skip` rejects. */
const latestByKey = (r: MartRule, rows: Rows, skip: (row: Row) => boolean): Map<string, Row> => {
  const latest = new Map<string, Row>();
  for (const row of rows) {
    if (row.order_id === null || row.order_id === undefined || skip(row)) continue;
    const key = keyOf(r, row);
    const current = latest.get(key);
    if (current === undefined || newer(r, row, current)) latest.set(key, row);
  }
  return latest;
};

/**
 * Compares what a mart and its hist tables hold with the expectations: exactly one home per
 * expected key, the right home, the latest content, and nothing else (SPEC §4 "exactly one home").
 */
const checkHomes = (
  r: MartRule,
  columns: readonly string[],
  expected: ReadonlyMap<string, Expected>,
  actual: Rows,
  cutoff: number | null,
  now: number,
  v: Violations,
): void => {
  const byKey = new Map<string, Row>();
  const repeated = new Map<string, Row[]>();
  for (const row of actual) {
    const home = String(row[HOME]);
    if (r.key.some((k) => row[k] === null || row[k] === undefined)) {
      v.add(`${r.name}: row with a NULL key`, `id ${show(row.id)} in ${place(home)}`);
      continue;
    }
    const ts = num(row[r.ts]);
    if (home !== MART && periodOf(ts) !== home)
      v.add(
        `${r.name}: hist row in the table of another period`,
        `${labelOf(r, row)} with ${r.ts} ${when(ts)} is in hist ${home}, its period is ${periodOf(ts)}`,
      );
    if (ts - now > FUTURE_SECONDS)
      v.add(
        `${r.name}: row more than a day in the future placed (SPEC §5)`,
        `${labelOf(r, row)} (id ${show(row.id)}) with ${r.ts} ${when(ts)} is in ${place(home)}; now is ${when(now)}`,
      );
    const key = keyOf(r, row);
    const first = byKey.get(key);
    if (first === undefined) byKey.set(key, row);
    else {
      const rows = repeated.get(key);
      if (rows) rows.push(row);
      else repeated.set(key, [first, row]);
    }
  }

  for (const [key, first] of byKey) {
    const rows = repeated.get(key);
    const exp = expected.get(key);
    const homes = (): string => (rows ?? [first]).map((row) => place(String(row[HOME]))).join(' and ');
    if (exp === undefined) {
      v.add(
        `${r.name}: row the source does not call for`,
        `${labelOf(r, first)} (id ${show(first.id)}) in ${homes()}`,
      );
      continue;
    }
    if (rows) v.add(`${r.name}: more than one home`, `${exp.label} is in ${homes()}`);
    for (const row of rows ?? [first]) {
      const home = String(row[HOME]);
      if (exp.row === null) {
        // Content unknown: the row must still come from this order and sit where its own ts says.
        if (!exp.ids.has(num(row.id)))
          v.add(
            `${r.name}: row taken from another order's source row`,
            `${exp.label} holds id ${show(row.id)}`,
          );
        const ts = num(row[r.ts]);
        const want = homeByCutoff(ts, cutoff);
        if (want !== home)
          v.add(
            `${r.name}: row in the wrong home`,
            `${exp.label} is in ${place(home)}, belongs in ${place(want)}: ${whyByCutoff(ts, cutoff)()}`,
          );
        continue;
      }
      if (home !== exp.home)
        v.add(
          `${r.name}: row in the wrong home`,
          `${exp.label} is in ${place(home)}, belongs in ${place(exp.home)}: ${exp.why()}`,
        );
      let diffs: string | null = null;
      for (const c of columns) {
        const want = exp.row[c];
        if (norm(row[c]) !== norm(want))
          diffs = `${diffs === null ? '' : `${diffs}, `}${c} ${show(row[c])} (source ${show(want)})`;
      }
      if (diffs !== null)
        v.add(
          `${r.name}: content differs from the source's latest version`,
          `${exp.label} in ${place(home)}: ${diffs}`,
        );
    }
  }

  for (const [key, exp] of expected) {
    if (exp.row !== null && !byKey.has(key))
      v.add(
        `${r.name}: row missing from the mart and every hist table`,
        `${exp.label} (id ${show(exp.row.id)}) belongs in ${place(exp.home)}: ${exp.why()}`,
      );
  }
};

// ---------------------------------------------------------------------------------------------
// The check

export interface MartCounts {
  readonly mart: number;
  readonly hist: number;
}

/** What the state looked like, so scenarios can assert that they exercised the special cases. */
export interface InspectStats {
  readonly rows: Readonly<Record<MartName, MartCounts>>;
  /** Periods of hist tables holding at least one row, across the three marts, sorted. */
  readonly histPeriods: readonly string[];
  /** Orders whose tracking row is in a hist table. */
  readonly archivedUtiOrders: ReadonlySet<string>;
  /** Orders whose tracking row is in mart_uti. */
  readonly martUtiOrders: ReadonlySet<string>;
  /** Orders whose ecs row is in mart_ecs. */
  readonly martEcsOrders: ReadonlySet<string>;
  readonly cutoffs: { readonly uti: number | null; readonly uts: number | null };
  /**
   * Orders with a tracking row updated after the extraction bound (`now − 60`): the source was
   * updated in place, so the version the warehouse should hold is unknown and only its placement
   * is checked.
   */
  readonly uncertainOrders: number;
  /** Source rows (with an order id) more than a day in the future: checked out of the marts, with an exception. */
  readonly futureRows: number;
  /** Orders whose two newest tracking rows tie on update_time, content-checked (the id breaks the tie). */
  readonly tiesChecked: number;
  /** Orders with an ecs row from the last day and no tracking row yet (checked to be in mart_ecs). */
  readonly awaitingTracking: number;
  /** Orders whose ecs add_time is at least an hour before their first scan. */
  readonly ecsBeforeFirstScan: number;
  /** Open NULL_ORDER_ID exceptions per source table. */
  readonly nullOrderIdExceptions: Readonly<Record<string, number>>;
}

export interface Inspection {
  /** Empty when every invariant holds; otherwise one entry per kind of violation. */
  readonly violations: string[];
  readonly stats: InspectStats;
}

/**
 * Reads the source and the warehouse after a run at `now` and checks SPEC §4/§5:
 *
 * - mart_uti: per order the latest source row by (update_time desc, id desc); in
 *   `hist_uni_tracking_info_<period>` when older than `min(max(update_time in mart_uti), now) − 180 d`.
 * - mart_ecs: per order its latest ecs row; in `hist_ecs_order_info_<period(add_time)>` iff the order is
 *   not in mart_uti and its add_time is older than mart_uti's cutoff.
 * - mart_uts: per (order_id, traceseq, pathtime) the row with the highest id; in
 *   `hist_uni_tracking_spath_<period>` when older than `min(max(pathtime in mart_uts), now) − 180 d`.
 * - Exactly one home per row, the source's content in every business column, nothing else placed:
 *   no NULL keys, no row more than a day in the future.
 * - One open NULL_ORDER_ID exception per NULL-order source row, one open FUTURE_TIMESTAMP per future
 *   row, never duplicated; no open archive routing gap; mart_uti ⋈ mart_ecs whole.
 *
 * mart_uti's max(update_time) is read from the warehouse (an order updated past the extraction
 * bound hides which version was loaded) and checked against the bounds the source gives.
 */
export const inspect = async (p: EnginePair, now: number): Promise<Inspection> => {
  const v = new Violations();
  const source = {
    mart_uti: await readSource(p, uti.source),
    mart_ecs: await readSource(p, ecs.source),
    mart_uts: await readSource(p, uts.source),
  } as const;
  const layout = await readLayout(p);

  // Table shapes: the source's columns lower-cased plus the load metadata, in every mart and hist table.
  const parts = new Map<MartName, Part[]>();
  for (const r of martRules) {
    parts.set(r.name, partsOf(r, layout));
    if (!layout.has(r.table)) v.add('missing mart table', `${MART_SCHEMA}.${r.table}`);
    const want = [...source[r.name].columns, ...LOAD_COLUMNS];
    for (const part of parts.get(r.name) as Part[]) {
      const has = layout.get(part.table) ?? [];
      const missing = want.filter((c) => !has.includes(c));
      const extra = has.filter((c) => !want.includes(c));
      if (missing.length > 0 || extra.length > 0)
        v.add(
          'mart or hist table with other columns than the source plus _batch_id, _loaded_at',
          `${part.table}:${missing.length ? ` missing ${missing.join(', ')}` : ''}${extra.length ? ` unexpected ${extra.join(', ')}` : ''}`,
        );
    }
  }
  for (const table of layout.keys()) {
    if (table.startsWith('hist_') && !martRules.some((r) => histPattern(r).test(table)))
      v.add('hist table with an unexpected name', table);
  }

  const actual = {
    mart_uti: await readParts(p, parts.get('mart_uti') as Part[], source.mart_uti.columns, layout),
    mart_ecs: await readParts(p, parts.get('mart_ecs') as Part[], source.mart_ecs.columns, layout),
    mart_uts: await readParts(p, parts.get('mart_uts') as Part[], source.mart_uts.columns, layout),
  } as const;
  const exceptions = layout.has(EXCEPTIONS_TABLE)
    ? await p.warehouse(
        `select exception_type, source_table, source_id, order_id
           from ${MART_SCHEMA}.${EXCEPTIONS_TABLE} where resolved_at is null`,
      )
    : [];
  if (!layout.has(EXCEPTIONS_TABLE)) v.add('missing exceptions table', `${MART_SCHEMA}.${EXCEPTIONS_TABLE}`);

  const isFuture = (r: MartRule, row: Row): boolean => num(row[r.ts]) - now > FUTURE_SECONDS;
  const inMart = (rows: Rows, column: string): Set<string> =>
    new Set(
      rows.filter((row) => row[HOME] === MART && row[column] !== null).map((row) => String(row[column])),
    );

  // --- mart_uti -------------------------------------------------------------------------------
  const utiRowsByOrder = new Map<string, Row[]>();
  for (const row of source.mart_uti.rows) {
    if (row.order_id === null || row.order_id === undefined) continue;
    const order = String(row.order_id);
    const rows = utiRowsByOrder.get(order);
    if (rows) rows.push(row);
    else utiRowsByOrder.set(order, [row]);
  }
  const bound = now - SETTLE_SECONDS;
  let certainMax: number | null = null;
  let uncertainOrders = 0;
  let tiesChecked = 0;
  const utiLatest = new Map<string, { row: Row | null; ids: Set<number> }>();
  for (const [order, rows] of utiRowsByOrder) {
    const ids = new Set(rows.map((row) => num(row.id)));
    if (rows.some((row) => num(row.update_time) > bound)) {
      uncertainOrders++;
      utiLatest.set(order, { row: null, ids });
      continue;
    }
    const sorted = [...rows].sort((a, b) => (newer(uti, a, b) ? -1 : newer(uti, b, a) ? 1 : 0));
    const latest = sorted[0] as Row;
    if (sorted.length > 1 && num((sorted[1] as Row).update_time) === num(latest.update_time)) tiesChecked++;
    utiLatest.set(order, { row: latest, ids });
    if (certainMax === null || num(latest.update_time) > certainMax) certainMax = num(latest.update_time);
  }
  let martMax: number | null = null;
  for (const row of actual.mart_uti) {
    if (row[HOME] !== MART || row.update_time === null) continue;
    if (martMax === null || num(row.update_time) > martMax) martMax = num(row.update_time);
  }
  if (certainMax !== null && (martMax === null || martMax < certainMax))
    v.add(
      'mart_uti: max(update_time) below the newest extracted source version',
      `max(update_time) in mart_uti is ${martMax === null ? 'NULL (empty)' : when(martMax)}, the source's newest extracted version has ${when(certainMax)}`,
    );
  if (martMax !== null && (martMax > bound || (uncertainOrders === 0 && martMax !== certainMax)))
    v.add(
      'mart_uti: max(update_time) is no version the source ever had within the extraction bound',
      `max(update_time) in mart_uti is ${when(martMax)}; newest source version ${certainMax === null ? 'none' : when(certainMax)}, extraction bound ${when(bound)}`,
    );
  const cutoffUti = martMax === null ? null : Math.min(martMax, now) - RETENTION_SECONDS;
  const expectedUti = new Map<string, Expected>();
  for (const [order, { row, ids }] of utiLatest) {
    const ts = row === null ? 0 : num(row.update_time);
    expectedUti.set(order, {
      label: `order ${order}`,
      row,
      home: row === null ? MART : homeByCutoff(ts, cutoffUti),
      why: whyByCutoff(ts, cutoffUti),
      ids,
    });
  }
  checkHomes(uti, source.mart_uti.columns, expectedUti, actual.mart_uti, cutoffUti, now, v);

  // --- mart_uts -------------------------------------------------------------------------------
  const utsLatest = latestByKey(uts, source.mart_uts.rows, (row) => isFuture(uts, row));
  let utsMax: number | null = null;
  for (const row of utsLatest.values()) {
    if (utsMax === null || num(row.pathtime) > utsMax) utsMax = num(row.pathtime);
  }
  const cutoffUts = utsMax === null ? null : Math.min(utsMax, now) - RETENTION_SECONDS;
  const expectedUts = new Map<string, Expected>();
  for (const [key, row] of utsLatest) {
    const ts = num(row.pathtime);
    expectedUts.set(key, {
      get label() {
        return labelOf(uts, row);
      },
      row,
      home: homeByCutoff(ts, cutoffUts),
      why: whyByCutoff(ts, cutoffUts),
      ids: NO_IDS,
    });
  }
  checkHomes(uts, source.mart_uts.columns, expectedUts, actual.mart_uts, cutoffUts, now, v);

  // --- mart_ecs (after mart_uti: its rows follow their order's tracking row) ------------------
  const martUtiOrders = inMart(actual.mart_uti, 'order_id');
  const orderInMartUti = (order: string): boolean => {
    const exp = expectedUti.get(order);
    if (exp === undefined) return false;
    // An uncertain order: take the warehouse's word for where its tracking row is (checked above).
    return exp.row === null ? martUtiOrders.has(order) : exp.home === MART;
  };
  const ecsLatest = latestByKey(ecs, source.mart_ecs.rows, (row) => isFuture(ecs, row));
  const expectedEcs = new Map<string, Expected>();
  for (const [order, row] of ecsLatest) {
    const addTime = num(row.add_time);
    const tracked = orderInMartUti(order);
    const aged = cutoffUti !== null && addTime < cutoffUti;
    expectedEcs.set(order, {
      label: `order ${order}`,
      row,
      home: !tracked && aged ? periodOf(addTime) : MART,
      why: () =>
        `${tracked ? 'its order is in mart_uti' : 'its order is not in mart_uti'}, add_time ${when(addTime)} ` +
        `${aged ? '<' : '>='} mart_uti cutoff ${cutoffUti === null ? 'none' : when(cutoffUti)}`,
      ids: NO_IDS,
    });
  }
  checkHomes(ecs, source.mart_ecs.columns, expectedEcs, actual.mart_ecs, null, now, v);

  // --- mart_uti ⋈ mart_ecs (SPEC §4 reactivation) ---------------------------------------------
  const martEcsOrders = inMart(actual.mart_ecs, 'order_id');
  for (const order of martUtiOrders) {
    if (ecsLatest.has(order) && !martEcsOrders.has(order))
      v.add(
        'mart_uti ⋈ mart_ecs broken: order in mart_uti without its ecs row in mart_ecs',
        `order ${order}`,
      );
  }

  // --- exceptions (SPEC §5) -------------------------------------------------------------------
  const open = new Map<string, number>();
  const exceptionKey = (type: string, table: string, id: number | string): string =>
    `${type}\u0001${table}\u0001${id}`;
  const nullOrderIdExceptions: Record<string, number> = {};
  for (const e of exceptions) {
    const type = String(e.exception_type);
    // A DQ_* exception is about an order, not a source row: one open per check and order (SPEC §6).
    const key = type.startsWith('DQ_')
      ? exceptionKey(type, 'order', String(e.order_id))
      : exceptionKey(type, String(e.source_table), num(e.source_id));
    open.set(key, (open.get(key) ?? 0) + 1);
    if (type === 'NULL_ORDER_ID') {
      const table = String(e.source_table);
      nullOrderIdExceptions[table] = (nullOrderIdExceptions[table] ?? 0) + 1;
    }
    if (type.startsWith('ARCHIVE_ROUTING_GAP'))
      v.add(
        'open archive routing gap (a row that aged out could not be archived)',
        `${type} ${String(e.source_table)} id ${show(e.source_id)} order ${show(e.order_id)}`,
      );
  }
  for (const [key, count] of open) {
    if (count > 1)
      v.add('open exception duplicated', `${key.split('\u0001').join(' ')} is open ${count} times`);
  }
  const nullRows = new Set<string>();
  let futureRows = 0;
  for (const r of martRules) {
    for (const row of source[r.name].rows) {
      const id = num(row.id);
      if (row.order_id === null || row.order_id === undefined) {
        nullRows.add(`${r.source}\u0001${id}`);
        const count = open.get(exceptionKey('NULL_ORDER_ID', r.source, id)) ?? 0;
        // A tracking row first written after the extraction bound has not been seen yet.
        const optional = r === uti && num(row.update_time) > bound;
        if (count === 0 && !optional)
          v.add('NULL order_id row without an open NULL_ORDER_ID exception', `${r.source} id ${id}`);
        continue;
      }
      // uni_tracking_info is extracted up to now − 60 only, so its future rows are never seen.
      if (r !== uti && isFuture(r, row)) {
        futureRows++;
        if ((open.get(exceptionKey('FUTURE_TIMESTAMP', r.source, id)) ?? 0) === 0)
          v.add(
            'row more than a day in the future without an open FUTURE_TIMESTAMP exception',
            `${r.source} id ${id} (${labelOf(r, row)}) with ${r.ts} ${when(num(row[r.ts]))}; now is ${when(now)}`,
          );
      }
    }
  }
  for (const e of exceptions) {
    if (
      e.exception_type === 'NULL_ORDER_ID' &&
      !nullRows.has(`${String(e.source_table)}\u0001${num(e.source_id)}`)
    )
      v.add(
        'open NULL_ORDER_ID exception for no NULL-order source row',
        `source_table ${show(e.source_table)} source_id ${show(e.source_id)}`,
      );
  }

  // --- stats ----------------------------------------------------------------------------------
  const counts = (rows: Rows): MartCounts => ({
    mart: rows.filter((row) => row[HOME] === MART).length,
    hist: rows.filter((row) => row[HOME] !== MART).length,
  });
  const histPeriods = new Set<string>();
  for (const rows of Object.values(actual)) {
    for (const row of rows) if (row[HOME] !== MART) histPeriods.add(String(row[HOME]));
  }
  const firstScan = new Map<string, number>();
  for (const row of source.mart_uts.rows) {
    if (row.order_id === null || row.order_id === undefined) continue;
    const order = String(row.order_id);
    const t = num(row.pathtime);
    const current = firstScan.get(order);
    if (current === undefined || t < current) firstScan.set(order, t);
  }
  let awaitingTracking = 0;
  let ecsBeforeFirstScan = 0;
  for (const [order, row] of ecsLatest) {
    const addTime = num(row.add_time);
    if (!utiRowsByOrder.has(order) && addTime >= now - 86_400) awaitingTracking++;
    const scan = firstScan.get(order);
    if (scan !== undefined && scan - addTime >= 3_600) ecsBeforeFirstScan++;
  }

  return {
    violations: v.report(),
    stats: {
      rows: {
        mart_uti: counts(actual.mart_uti),
        mart_ecs: counts(actual.mart_ecs),
        mart_uts: counts(actual.mart_uts),
      },
      histPeriods: [...histPeriods].sort(),
      archivedUtiOrders: new Set(
        actual.mart_uti
          .filter((row) => row[HOME] !== MART && row.order_id !== null)
          .map((row) => String(row.order_id)),
      ),
      martUtiOrders,
      martEcsOrders,
      cutoffs: { uti: cutoffUti, uts: cutoffUts },
      uncertainOrders,
      futureRows,
      tiesChecked,
      awaitingTracking,
      ecsBeforeFirstScan,
      nullOrderIdExceptions,
    },
  };
};

/** The invariants after a run at `now` (epoch seconds); empty when all hold. */
export const checkInvariants = async (p: EnginePair, now: number): Promise<string[]> =>
  (await inspect(p, now)).violations;

// ---------------------------------------------------------------------------------------------
// Snapshots

/** Business content of one table: its column names and its rows, each serialised, sorted. */
export interface TableSnapshot {
  readonly columns: readonly string[];
  readonly rows: readonly string[];
}

/** Business content per table of the mart schema (`<table>` → columns and sorted rows). */
export type Snapshot = Readonly<Record<string, TableSnapshot>>;

/**
 * Every mart and hist table's business columns (all but `_batch_id`, `_loaded_at`) and the
 * exceptions ledger without its ids, clocks and notes, each table's rows serialised and sorted: two
 * pipelines that reached the same state have equal snapshots, however their runs went.
 */
export const snapshotBusiness = async (p: EnginePair): Promise<Snapshot> => {
  const layout = await readLayout(p);
  const snapshot: Record<string, { columns: readonly string[]; rows: string[] }> = {};
  for (const r of martRules) {
    const parts = partsOf(r, layout);
    const columns = [
      ...new Set(parts.flatMap((part) => (layout.get(part.table) ?? []).filter((c) => !LOAD_COLUMNS.has(c)))),
    ].sort();
    for (const part of parts) snapshot[part.table] = { columns, rows: [] };
    for (const row of await readParts(p, parts, columns, layout, (part) => part.table)) {
      snapshot[String(row[HOME])]?.rows.push(JSON.stringify(columns.map((c) => norm(row[c]))));
    }
  }
  if (layout.has(EXCEPTIONS_TABLE)) {
    const columns = [
      'exception_type',
      'source_table',
      'source_id',
      'order_id',
      'traceseq',
      'pathtime',
      'event_time',
    ];
    const rows = await p.warehouse(
      `select ${columns.join(', ')}, case when resolved_at is null then 1 else 0 end as open
         from ${MART_SCHEMA}.${EXCEPTIONS_TABLE}`,
    );
    const all = [...columns, 'open'];
    snapshot[EXCEPTIONS_TABLE] = {
      columns: all,
      rows: rows.map((row) => JSON.stringify(all.map((c) => norm(row[c])))),
    };
  }
  for (const table of Object.values(snapshot)) table.rows.sort();
  return snapshot;
};

/** Human-readable differences between two snapshots, one entry per table that differs; empty when equal. */
export const diffSnapshots = (expected: Snapshot, actual: Snapshot): string[] => {
  const out: string[] = [];
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const multiset = (rows: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const row of rows) m.set(row, (m.get(row) ?? 0) + 1);
    return m;
  };
  const only = (x: Map<string, number>, y: Map<string, number>): string[] =>
    [...x].flatMap(([row, n]) => Array<string>(Math.max(0, n - (y.get(row) ?? 0))).fill(row));
  for (const table of tables) {
    const want = expected[table];
    const got = actual[table];
    if (want === undefined || got === undefined) {
      out.push(`${table}: ${want === undefined ? 'unexpected table' : 'table missing'}`);
      continue;
    }
    if (want.columns.join() !== got.columns.join()) {
      out.push(`${table}: columns ${got.columns.join(', ')}, expected ${want.columns.join(', ')}`);
      continue;
    }
    const a = multiset(want.rows);
    const b = multiset(got.rows);
    const missing = only(a, b);
    const extra = only(b, a);
    if (missing.length === 0 && extra.length === 0) continue;
    out.push(
      [
        `${table}: ${want.rows.length} rows expected, ${got.rows.length} found; ${missing.length} missing, ${extra.length} extra`,
        `    columns ${want.columns.join(', ')}`,
        ...missing.slice(0, EXAMPLES).map((row) => `    - missing ${row}`),
        ...extra.slice(0, EXAMPLES).map((row) => `    + extra   ${row}`),
      ].join('\n'),
    );
  }
  return out;
};
