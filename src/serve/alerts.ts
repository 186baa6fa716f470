import { maskIn, maskSecrets } from '../config/secrets.js';
import type { Settings } from '../config/settings.js';
import { safeDecode, secretsOf } from '../config/urls.js';
import { withConnection, type Warehouse } from '../engines/warehouse/warehouse.js';
import { exceptionsByType, planOpenExceptionsByType } from '../pipeline/exceptions.js';
import { metaTables } from '../pipeline/meta.js';
import type { Logger } from '../runner/logger.js';
import type { RunSummary } from '../runner/run-cycle.js';

/** What raised an alert (SPEC §7): a run, a data test of the cycle, an open exception type. */
export type AlertKind = 'run' | 'test' | 'exception';

/**
 * The JSON body POSTed to the webhook. `text` is what Slack (and Slack-compatible receivers:
 * Mattermost, Rocket.Chat, Teams workflows) shows; the other fields are for machines. Nothing in it
 * is a secret: the warehouse is its redacted URL and every error line is masked.
 */
export interface Alert {
  readonly text: string;
  /** Stable key of the cause: `run:run`, `run:monitor`, `test:<test name>`, `exception:<TYPE>`. */
  readonly cause: string;
  /** `open`: the cause appeared; `cleared`: it went away. */
  readonly state: 'open' | 'cleared';
  readonly kind: AlertKind;
  /** The run whose end raised or cleared it. */
  readonly runId: number;
  readonly runKind: RunSummary['kind'];
  /** One line saying what is wrong, or what cleared it. */
  readonly detail: string;
  /** The pipeline: its metadata schema (the lease key names it too). */
  readonly pipeline: string;
  /** The warehouse URL, redacted. */
  readonly warehouse: string;
  /** When the cause opened, ISO 8601 UTC. */
  readonly since: string;
  /** When this alert was raised, ISO 8601 UTC. */
  readonly at: string;
}

/** A cause open now, as the alerter last saw it (for the dashboard). */
export interface OpenCause {
  readonly cause: string;
  readonly kind: AlertKind;
  readonly since: string;
  readonly detail: string;
}

export interface AlerterOptions {
  /** Where alerts are POSTed (`settings.alertWebhook`); `null`: causes are tracked, nothing is sent. */
  readonly webhook: string | null;
  readonly log: Logger;
  /** How long one POST may take before it is abandoned (default 5,000 ms). */
  readonly timeoutMs?: number;
  /** The wait before the one retry of a POST that failed (default 1,000 ms). */
  readonly retryDelayMs?: number;
}

export interface Alerter {
  /**
   * Looks at what a run left (its state, its data tests, the open exceptions) and POSTs one alert
   * per cause that opened or cleared since the last look. Never throws and never fails the run: a
   * warehouse that cannot be read or a webhook that does not answer is logged as a warning.
   */
  afterRun(summary: RunSummary, warehouse: Warehouse, settings: Settings): Promise<void>;
  /** The causes open now, oldest first. */
  openCauses(): readonly OpenCause[];
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_RETRY_DELAY_MS = 1_000;

/** Exception types worth waking someone for (SPEC §7): the archive safety net and the DQ checks. */
const alerting = (type: string): boolean => type.startsWith('ARCHIVE_ROUTING_GAP') || type.startsWith('DQ_');

/** Shorter path segments or query values of the webhook are left alone: `services`, `hooks`. */
const WEBHOOK_TOKEN_LENGTH = 16;

/**
 * Every form in which a secret of this pipeline may show up in an alert: the warehouse and source
 * passwords, the dashboard token, and the webhook URL itself (Slack's URL is its credential), its
 * path and its long path segments and query values (the token parts).
 */
const secretsFor = (settings: Settings, webhook: string | null): string[] => {
  const secrets = [
    ...secretsOf(settings.warehouse.url),
    ...(settings.source ? secretsOf(settings.source.url) : []),
  ];
  if (settings.dashboard.token) secrets.push(settings.dashboard.token);
  if (webhook) {
    secrets.push(webhook, ...secretsOf(webhook));
    if (URL.canParse(webhook)) {
      const url = new URL(webhook);
      if (url.pathname.length > 1) secrets.push(`${url.pathname}${url.search}`);
      for (const part of [...url.pathname.split('/'), ...url.searchParams.values()])
        if (part.length >= WEBHOOK_TOKEN_LENGTH) secrets.push(part, safeDecode(part));
    }
  }
  return secrets;
};

const firstLine = (text: string): string => text.split('\n')[0] ?? '';

const describeError = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const why =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return `${firstLine(error.message)}${why ? ` (${firstLine(why)})` : ''}`;
};

/** A webhook answer that is not 2xx; 4xx other than 429 will not change on a retry. */
class WebhookStatus extends Error {
  constructor(readonly status: number) {
    super(`the webhook answered HTTP ${status}`);
  }
}

const retryable = (error: unknown): boolean =>
  !(error instanceof WebhookStatus) || error.status === 429 || error.status >= 500;

interface Tracked {
  readonly cause: string;
  readonly kind: AlertKind;
  /** What the cause is now, as the last run that could tell saw it. */
  actual: 'open' | 'cleared';
  /** What the webhook last heard about it (a failed delivery leaves it behind `actual`). */
  announced: 'open' | 'cleared';
  since: string;
  detail: string;
  runId: number;
  runKind: RunSummary['kind'];
}

/**
 * Webhook alerts of `serve` (SPEC §7): one alert when a cause opens, none while it persists across
 * runs, one when it clears. Causes:
 *
 * - `run:<kind>`: a run of that kind failed or timed out; cleared by the next run of that kind that
 *   succeeds. A cancelled run (SIGTERM, SIGINT) neither opens nor clears anything.
 * - `test:<name>`: a data test of the cycle found failing rows (`test_failures` of that run, error
 *   or warn); cleared by the next run whose tests ran and did not fail it.
 * - `exception:<TYPE>`: open `ARCHIVE_ROUTING_GAP*` or `DQ_*` exceptions in the ledger; cleared when
 *   none of that type is open. Looked at after every run, of either kind.
 *
 * The causes live in the memory of the serve process only: a restarted `serve` alerts again for a
 * cause still open, and never clears one it did not see open. A POST that fails (5 s timeout, one
 * retry) is logged as a warning and tried again after the next run while the cause is unchanged;
 * after one failed POST the others of that run wait too, so a dead webhook costs a run at most two
 * attempts. The webhook URL is a secret: it is never logged, and no secret is ever sent.
 */
export const createAlerter = (options: AlerterOptions): Alerter => {
  const { webhook, log } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const causes = new Map<string, Tracked>();
  let queue: Promise<void> = Promise.resolve();

  /** Sends one body, retrying once; `true` when the webhook took it (or there is none). */
  const deliver = async (cause: string, body: string, mask: (text: string) => string): Promise<boolean> => {
    if (!webhook) return true;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel().catch(() => undefined);
        if (!response.ok) throw new WebhookStatus(response.status);
        return true;
      } catch (error) {
        if (attempt >= 2 || !retryable(error)) {
          log.warn(
            { cause, attempts: attempt, error: mask(describeError(error)) },
            'alert not delivered: the webhook did not take it; it is tried again after the next run',
          );
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  };

  /** Marks a cause open (a new one since now) or keeps it open with its latest detail. */
  const open = (cause: string, kind: AlertKind, detail: string, summary: RunSummary, now: string): void => {
    const known = causes.get(cause);
    if (known) {
      known.actual = 'open';
      known.detail = detail;
      known.runId = summary.runId;
      known.runKind = summary.kind;
      return;
    }
    causes.set(cause, {
      cause,
      kind,
      actual: 'open',
      announced: 'cleared',
      since: now,
      detail,
      runId: summary.runId,
      runKind: summary.kind,
    });
  };

  const clear = (cause: string, detail: string, summary: RunSummary): void => {
    const known = causes.get(cause);
    if (!known || known.actual === 'cleared') return;
    known.actual = 'cleared';
    known.detail = detail;
    known.runId = summary.runId;
    known.runKind = summary.kind;
  };

  /** The run itself: failed or timed out opens `run:<kind>`, success clears it. */
  const lookAtRun = (summary: RunSummary, mask: (text: string) => string, now: string): void => {
    const cause = `run:${summary.kind}`;
    const { state } = summary;
    if (state === 'failed' || state === 'timed_out') {
      const what = state === 'failed' ? 'failed' : 'timed out';
      const why = summary.error ? `: ${mask(firstLine(summary.error))}` : '';
      open(cause, 'run', `${summary.kind} run ${summary.runId} ${what}${why}`, summary, now);
    } else if (state === 'success') clear(cause, `${summary.kind} run ${summary.runId} succeeded`, summary);
  };

  /** The data tests of the run, when they ran to a verdict (`test_failures` of the run). */
  const lookAtTests = async (summary: RunSummary, warehouse: Warehouse, settings: Settings, now: string) => {
    const tests = summary.tasks.find((t) => t.task === 'tests');
    if (!tests || (tests.state !== 'success' && tests.state !== 'failed')) return;
    const spec = metaTables(settings.schemas).testFailures;
    const d = warehouse.dialect;
    const failing = await withConnection(warehouse, (c) =>
      c.query<{ test: string; severity: string; n: number }>(
        `select test, severity, count(*) as n from ${d.table(spec.schema, spec.name)}
          where run_id = $1 group by test, severity order by test`,
        [summary.runId],
      ),
    );
    // A tests task that failed with nothing recorded failed on an error, not on a verdict.
    if (tests.state === 'failed' && failing.length === 0) return;
    const seen = new Set<string>();
    for (const f of failing) {
      const cause = `test:${String(f.test)}`;
      seen.add(cause);
      const n = Number(f.n);
      open(
        cause,
        'test',
        `data test ${String(f.test)} (${String(f.severity)}) found ${n} failing row${n === 1 ? '' : 's'} in run ${summary.runId}`,
        summary,
        now,
      );
    }
    for (const t of causes.values())
      if (t.kind === 'test' && !seen.has(t.cause))
        clear(t.cause, `data test ${t.cause.slice('test:'.length)} passed in run ${summary.runId}`, summary);
  };

  /** Open ARCHIVE_ROUTING_GAP* and DQ_* exceptions per type, from the ledger. */
  const lookAtExceptions = async (
    summary: RunSummary,
    warehouse: Warehouse,
    settings: Settings,
    now: string,
  ) => {
    const statement = planOpenExceptionsByType(warehouse.dialect, settings.schemas);
    const byType = exceptionsByType(
      await withConnection(warehouse, (c) => c.query(statement.sql, statement.params)),
    ).filter((e) => alerting(e.type) && e.open > 0);
    const seen = new Set<string>();
    for (const e of byType) {
      const cause = `exception:${e.type}`;
      seen.add(cause);
      open(
        cause,
        'exception',
        `${e.open} open ${e.type} exception${e.open === 1 ? '' : 's'} (order-tracking exceptions list --type ${e.type})`,
        summary,
        now,
      );
    }
    for (const t of causes.values())
      if (t.kind === 'exception' && !seen.has(t.cause))
        clear(t.cause, `no open ${t.cause.slice('exception:'.length)} exception left`, summary);
  };

  const alertOf = (t: Tracked, settings: Settings, warehouse: Warehouse, at: string): Alert => {
    const pipeline = settings.schemas.meta;
    const text =
      t.actual === 'open'
        ? `order-tracking alert (${pipeline} on ${warehouse.displayUrl}): ${t.detail}`
        : `order-tracking cleared (${pipeline} on ${warehouse.displayUrl}): ${t.detail}`;
    return {
      text,
      cause: t.cause,
      state: t.actual,
      kind: t.kind,
      runId: t.runId,
      runKind: t.runKind,
      detail: t.detail,
      pipeline,
      warehouse: warehouse.displayUrl,
      since: t.since,
      at,
    };
  };

  const look = async (summary: RunSummary, warehouse: Warehouse, settings: Settings): Promise<void> => {
    const secrets = secretsFor(settings, webhook);
    const mask = (text: string): string => maskSecrets(maskIn(text, secrets));
    const now = new Date().toISOString();
    lookAtRun(summary, mask, now);
    // Each look on its own: an unreadable ledger must not keep the run's own alert from going out.
    for (const [what, lookAt] of [
      ['data tests', lookAtTests],
      ['exceptions', lookAtExceptions],
    ] as const)
      try {
        await lookAt(summary, warehouse, settings, now);
      } catch (error) {
        log.warn(
          { run: summary.runId, error: mask(describeError(error)) },
          `alerts could not read the ${what} of the run; their alerts wait for the next run`,
        );
      }
    const pending = [...causes.values()].filter((t) => t.actual !== t.announced);
    for (const [i, t] of pending.entries()) {
      // Each text field masked on its own: masking the serialised body could cut through its syntax.
      const alert = Object.fromEntries(
        Object.entries(alertOf(t, settings, warehouse, now)).map(([k, v]) => [
          k,
          typeof v === 'string' ? mask(v) : v,
        ]),
      );
      const body = JSON.stringify(alert);
      if (!(await deliver(t.cause, body, mask))) {
        if (pending.length > i + 1)
          log.warn({ held: pending.length - i - 1 }, 'alerts held until the webhook answers');
        break;
      }
      log.info({ cause: t.cause, state: t.actual }, 'alert sent');
      t.announced = t.actual;
    }
    for (const t of causes.values())
      if (t.actual === 'cleared' && t.announced === 'cleared') causes.delete(t.cause);
  };

  return {
    afterRun(summary, warehouse, settings) {
      // One look at a time, in run order: the causes are shared state.
      const next = queue.then(() =>
        look(summary, warehouse, settings).catch((error: unknown) =>
          log.warn(
            { run: summary.runId, error: firstLine(maskSecrets(describeError(error))) },
            'alerts failed',
          ),
        ),
      );
      queue = next;
      return next;
    },
    openCauses() {
      return [...causes.values()]
        .filter((t) => t.actual === 'open')
        .sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0))
        .map(({ cause, kind, since, detail }) => ({ cause, kind, since, detail }));
    },
  };
};
