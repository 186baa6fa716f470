import { existsSync, readFileSync } from 'node:fs';
import { Cron } from 'croner';
import { z } from 'zod';
import { DEFAULT_READ_TIMEOUT_SECONDS } from '../engines/source/source.js';
import type { TableLayout } from '../engines/warehouse/warehouse.js';
import { defaultLayouts } from '../pipeline/layouts.js';
import { sourceTables, type CursorSpec, type SourceTableName } from '../pipeline/tables.js';
import { ConfigError } from './errors.js';
import { parseEpoch } from './time.js';
import {
  defaultWarehouseUrl,
  parseSourceUrl,
  parseWarehouseUrl,
  type SourceUrl,
  type WarehouseUrl,
} from './urls.js';

export interface Schemas {
  /** Append-only landing tables (default `settlement_public`). */
  readonly raw: string;
  /** Marts, hist tables and exceptions (default `settlement_ods`). */
  readonly mart: string;
  /** Runs, task instances, watermarks, batches, leases (default `order_tracking_meta`). */
  readonly meta: string;
}

export interface Settings {
  readonly warehouse: WarehouseUrl;
  /** `null` for commands that need no source (status, exceptions). */
  readonly source: SourceUrl | null;
  readonly schemas: Schemas;
  /** Rows per streamed batch: the extract's memory bound (default `DEFAULT_BATCH_SIZE`, 5,000). */
  readonly batchSize: number;
  /**
   * Seconds a source read may get no data before the run fails naming the table (default
   * `DEFAULT_READ_TIMEOUT_SECONDS`, 300): a dead proxy or a stuck session must not hold the lease.
   */
  readonly sourceReadTimeoutSeconds: number;
  readonly cursors: Readonly<Record<SourceTableName, CursorSpec>>;
  /**
   * Archive periods (`2025_h2`) that must not be written: rows that would go there stay in their
   * mart under an open ARCHIVE_ROUTING_GAP exception (SPEC §4 safety net). Default none.
   */
  readonly frozenPeriods: readonly string[];
  /**
   * Event times before this (epoch seconds; default 2000-01-01) are quarantined like future ones
   * (SPEC §5): a timestamp of 0 would otherwise create a hist table per half-year back to 1970.
   */
  readonly timestampFloor: number;
  readonly monitor: MonitorSettings;
  readonly redshift: RedshiftSettings;
  /** When `serve` starts runs (SPEC §7). */
  readonly schedule: ScheduleSettings;
  /**
   * Seconds before a task, or a whole run (`cycle`, `monitor`), is cancelled on the server; only
   * the keys set (a task's own default applies to the others, SPEC §7).
   */
  readonly timeouts: Readonly<Partial<Record<TimeoutName, number>>>;
  readonly retries: RetrySettings;
  /**
   * Seconds a stopped run's current task gets to finish before its statement is cancelled on the
   * server (SIGTERM, SIGINT; default 20, under Kubernetes' 30 s before it kills the pod).
   */
  readonly stopGraceSeconds: number;
  /** Where alerts are POSTed (`null`: none). A secret: Slack's URL is its credential. */
  readonly alertWebhook: string | null;
  readonly dashboard: DashboardSettings;
}

export interface ScheduleSettings {
  /** Cron expression of the 15-minute cycle (5 fields, or 6 with seconds). */
  readonly cycle: string;
  /** Cron expression of the daily monitor. */
  readonly monitor: string;
  /** IANA time zone the expressions are read in (default `UTC`). */
  readonly timezone: string;
}

/** Transient failures (connection refused or reset, deadlocks, serialization) run again. */
export interface RetrySettings {
  /** Runs of a task in all, the first included (1: no retry). */
  readonly attempts: number;
  /** Seconds before the second run; doubled before each next one. */
  readonly baseDelaySeconds: number;
}

export interface DashboardSettings {
  readonly host: string;
  readonly port: number;
  /** `ORDER_TRACKING_DASHBOARD_TOKEN`: needed for any write; without it the dashboard is read-only. */
  readonly token: string | null;
}

/**
 * What `timeouts` may name: the whole cycle, the whole monitor run, and each task. Listed here
 * rather than read from the task graphs, which import these settings.
 */
export const timeoutNames = [
  'cycle',
  'monitor',
  'check_drift',
  'calc_window',
  'extract',
  'validate',
  'mart_uti',
  'mart_ecs',
  'mart_uts',
  'tests',
  'reconcile',
  'reconciled',
  'dq',
  'exceptions',
  'cleanup',
  'maintenance',
] as const;
export type TimeoutName = (typeof timeoutNames)[number];

export const DEFAULT_SCHEDULE: ScheduleSettings = {
  cycle: '*/15 * * * *',
  monitor: '0 2 * * *',
  timezone: 'UTC',
};
/** A run-wide limit above the sum of its usual tasks' (SPEC §7 task defaults still apply within). */
export const DEFAULT_RUN_TIMEOUTS = { cycle: 7200, monitor: 21_600 } as const;
export const DEFAULT_RETRIES: RetrySettings = { attempts: 3, baseDelaySeconds: 1 };
export const DEFAULT_DASHBOARD = { host: '127.0.0.1', port: 8080 } as const;
export const DEFAULT_STOP_GRACE_SECONDS = 20;

/** Where a Redshift warehouse stages its loads (config `redshift.s3`). */
export interface RedshiftS3Settings {
  readonly bucket: string;
  /** Key prefix under the bucket, without leading or trailing `/` (may be empty). */
  readonly prefix: string;
  readonly region: string;
  /** COPY's `IAM_ROLE`; without it COPY is given the keys of the standard AWS credential chain. */
  readonly iamRole?: string;
  /** An S3-compatible endpoint instead of AWS's (path-style addressing then). */
  readonly endpoint?: string;
}

/** What only a Redshift warehouse reads (config `redshift`). */
export interface RedshiftSettings {
  /** S3 staging for COPY, or `null`: multi-row INSERTs under the statement limit instead. */
  readonly s3: RedshiftS3Settings | null;
  /** Per-table layouts replacing the defaults (`src/pipeline/layouts.ts`), by table name. */
  readonly tables: Readonly<Record<string, TableLayout>>;
  /** The largest multi-row INSERT, in bytes of SQL (Redshift refuses statements over 16 MiB). */
  readonly insertMaxBytes: number;
}

/** The schema names when neither the environment nor the config file names them. */
export const DEFAULT_SCHEMAS: Schemas = {
  raw: 'settlement_public',
  mart: 'settlement_ods',
  meta: 'order_tracking_meta',
};

/** Half of Redshift's 16 MiB statement limit: room for a row the size estimate missed. */
export const DEFAULT_INSERT_MAX_BYTES = 8 * 1024 * 1024;

/** The daily monitor's horizons (SPEC §6), in days. */
export interface MonitorSettings {
  /** Days of the source reconciled against the warehouse, ending at the start of today (UTC). */
  readonly reconcileDays: number;
  /** Raw rows every mart has consumed are deleted once their batch is this old. */
  readonly rawRetentionDays: number;
  /** Resolved exceptions are deleted once resolved this long ago. */
  readonly exceptionRetentionDays: number;
  /** Runs (and their task rows) are deleted once started this long ago. */
  readonly ledgerRetentionDays: number;
}

export const DEFAULT_MONITOR: MonitorSettings = {
  reconcileDays: 7,
  rawRetentionDays: 7,
  exceptionRetentionDays: 90,
  ledgerRetentionDays: 90,
};

/** What the command line says; every field optional (flags win over the environment). */
export interface CliOptions {
  readonly warehouse?: string;
  readonly source?: string;
  readonly config?: string;
  readonly batchSize?: string;
}

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _, starting with a letter or _');

/**
 * A whole number between `min` and `max`: a JSON number, or a string of digits, the one rule for
 * the config file and the environment (`"1e3"` is refused in both; JSON's `1e3` is just 1000).
 */
const whole = (min: number, max: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(v)} is not a whole number between ${min} and ${max}`,
    });
    return z.NEVER;
  });

/** A time setting: epoch seconds, or a UTC date like `2000-01-01` (see `parseEpoch`). */
const time = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseEpoch(String(v), '');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const BATCH_SIZE = whole(1, 1_000_000);

/** A day: a read silent for longer is not coming back. */
const maxReadTimeoutSeconds = 86_400;
const READ_TIMEOUT = whole(1, maxReadTimeoutSeconds);

const cursorOverride = z
  .object({
    cursor: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a column name')
      .optional(),
    kind: z.enum(['id', 'time']).optional(),
    overlap: whole(0, 1e12).optional(),
    settleSeconds: whole(0, 86_400).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    warehouse: z.string().optional(),
    source: z.string().optional(),
    schemas: z.object({ raw: identifier, mart: identifier, meta: identifier }).partial().strict().optional(),
    batchSize: BATCH_SIZE.optional(),
    timestampFloor: time.optional(),
    sourceReadTimeoutSeconds: READ_TIMEOUT.optional(),
    frozenPeriods: z.array(z.string().regex(/^\d{4}_h[12]$/, 'must be a period like 2025_h2')).optional(),
    monitor: z
      .object({
        reconcileDays: whole(1, 366).optional(),
        rawRetentionDays: whole(1, 3660).optional(),
        exceptionRetentionDays: whole(1, 36_600).optional(),
        ledgerRetentionDays: whole(1, 36_600).optional(),
      })
      .strict()
      .optional(),
    schedule: z
      .object({
        cycle: z.string().optional(),
        monitor: z.string().optional(),
        timezone: z.string().optional(),
      })
      .strict()
      .optional(),
    timeouts: z
      .object(Object.fromEntries(timeoutNames.map((name) => [name, whole(1, 7 * 86_400).optional()])))
      .strict()
      .optional(),
    retries: z
      .object({ attempts: whole(1, 10).optional(), baseDelaySeconds: whole(0, 600).optional() })
      .strict()
      .optional(),
    alerts: z.object({ webhook: z.url().optional() }).strict().optional(),
    stopGraceSeconds: whole(0, 3600).optional(),
    dashboard: z
      .object({ host: z.string().min(1).optional(), port: whole(0, 65_535).optional() })
      .strict()
      .optional(),
    tables: z
      .object(Object.fromEntries(sourceTables.map((t) => [t.name, cursorOverride.optional()])))
      .strict()
      .optional(),
    redshift: z
      .object({
        s3: z
          .object({
            bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
            prefix: z
              .string()
              .regex(
                /^[A-Za-z0-9!_.*'()/-]*$/,
                "must be an S3 key prefix (letters, digits, / ! _ . * ' ( ) -)",
              )
              .optional(),
            region: z.string().regex(/^[a-z0-9-]+$/, 'must be an AWS region like us-east-1'),
            iamRole: z
              .string()
              .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'must be an IAM role ARN')
              .optional(),
            endpoint: z.url().optional(),
          })
          .strict()
          .optional(),
        tables: z
          .object(
            Object.fromEntries(
              Object.keys(defaultLayouts).map((name) => [
                name,
                z
                  .object({
                    distStyle: z.enum(['even', 'all', 'key', 'auto']).optional(),
                    distKey: identifier.optional(),
                    sortKey: z.array(identifier).max(400).optional(),
                  })
                  .strict()
                  .optional(),
              ]),
            ),
          )
          .strict()
          .optional(),
        insertMaxBytes: whole(1024, 16 * 1024 * 1024 - 65_536).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

type FileSettings = z.infer<typeof fileSchema>;

const describeIssue = (issue: z.core.$ZodIssue, where: string): string => {
  const path = issue.path.join('.');
  return `${where}${path ? ` ${path}` : ''}: ${issue.message}`;
};

const readConfigFile = (path: string | undefined, explicit: boolean): FileSettings => {
  if (!path) return {};
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError(`config file ${path} does not exist`);
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!, `config file ${path}`));
  return parsed.data;
};

/** A flag's or environment variable's value through the config file's own rule for it. */
const parseWith = <T>(schema: z.ZodType<T>, raw: string, where: string): T => {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${where} ${parsed.error.issues[0]!.message}`);
  return parsed.data;
};

const parsePeriods = (raw: string): string[] => {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((n) => !/^\d{4}_h[12]$/.test(n));
  if (bad !== undefined)
    throw new ConfigError(`ORDER_TRACKING_FROZEN_PERIODS "${bad}" is not a period like 2025_h2`);
  return names;
};

const parseSchema = (raw: string, where: string): string => {
  const parsed = identifier.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${where} "${raw}" ${parsed.error.issues[0]!.message}`);
  return raw;
};

/**
 * Rows per streamed batch (source → warehouse). Small on purpose: a batch lives until the warehouse
 * has taken it, and much larger batches outlive the garbage collector's young generation, which
 * then copies and promotes them (docs/performance.md has the measurements).
 */
export const DEFAULT_BATCH_SIZE = 5_000;

/** 2000-01-01 UTC: no order-tracking event is older (SPEC §5, quarantined below it). */
export const DEFAULT_TIMESTAMP_FLOOR = Date.UTC(2000, 0, 1) / 1000;

/**
 * Resolves settings from flags, then `ORDER_TRACKING_*` environment variables, then the config file
 * (`--config`, `ORDER_TRACKING_CONFIG`, or `./order-tracking.json` when present), then defaults.
 * Throws a one-line `ConfigError` naming the first bad setting.
 */
export const resolveSettings = (cli: CliOptions, env: NodeJS.ProcessEnv = process.env): Settings => {
  const configPath = cli.config ?? env.ORDER_TRACKING_CONFIG;
  const file = readConfigFile(configPath ?? 'order-tracking.json', configPath !== undefined);

  const warehouse = parseWarehouseUrl(
    cli.warehouse ?? env.ORDER_TRACKING_WAREHOUSE ?? file.warehouse ?? defaultWarehouseUrl,
  );
  const sourceRaw = cli.source ?? env.ORDER_TRACKING_SOURCE ?? file.source;
  const source = sourceRaw ? parseSourceUrl(sourceRaw) : null;

  const batchSize = cli.batchSize
    ? parseWith(BATCH_SIZE, cli.batchSize, '--batch-size')
    : env.ORDER_TRACKING_BATCH_SIZE
      ? parseWith(BATCH_SIZE, env.ORDER_TRACKING_BATCH_SIZE, 'ORDER_TRACKING_BATCH_SIZE')
      : (file.batchSize ?? DEFAULT_BATCH_SIZE);
  const timestampFloor = env.ORDER_TRACKING_TIMESTAMP_FLOOR
    ? parseEpoch(env.ORDER_TRACKING_TIMESTAMP_FLOOR, 'ORDER_TRACKING_TIMESTAMP_FLOOR')
    : (file.timestampFloor ?? DEFAULT_TIMESTAMP_FLOOR);

  const schemaSetting = (key: keyof Schemas, fallback: string): string => {
    const envName = `ORDER_TRACKING_${key.toUpperCase()}_SCHEMA`;
    const fromEnv = env[envName];
    return fromEnv ? parseSchema(fromEnv, envName) : (file.schemas?.[key] ?? fallback);
  };
  const schemas: Schemas = {
    raw: schemaSetting('raw', DEFAULT_SCHEMAS.raw),
    mart: schemaSetting('mart', DEFAULT_SCHEMAS.mart),
    meta: schemaSetting('meta', DEFAULT_SCHEMAS.meta),
  };

  const cursors = Object.fromEntries(
    sourceTables.map((t) => {
      const o = file.tables?.[t.name];
      const column = o?.cursor ?? t.cursor.column;
      // Column names compare without case, as MySQL's and SQLite's do.
      const kind =
        o?.kind ??
        (o?.cursor && o.cursor.toLowerCase() !== t.cursor.column
          ? column.toLowerCase() === 'id'
            ? 'id'
            : 'time'
          : t.cursor.kind);
      const spec: CursorSpec = {
        column,
        kind,
        overlap: o?.overlap ?? (kind === t.cursor.kind ? t.cursor.overlap : kind === 'id' ? 10_000 : 1800),
        settleSeconds: o?.settleSeconds ?? (kind === 'time' ? 60 : 0),
      };
      return [t.name, spec];
    }),
  ) as Record<SourceTableName, CursorSpec>;

  const sourceReadTimeoutSeconds = env.ORDER_TRACKING_SOURCE_READ_TIMEOUT
    ? parseWith(READ_TIMEOUT, env.ORDER_TRACKING_SOURCE_READ_TIMEOUT, 'ORDER_TRACKING_SOURCE_READ_TIMEOUT')
    : (file.sourceReadTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS);

  const frozenRaw = env.ORDER_TRACKING_FROZEN_PERIODS;
  const frozenPeriods = frozenRaw !== undefined ? parsePeriods(frozenRaw) : (file.frozenPeriods ?? []);

  return {
    warehouse,
    source,
    schemas,
    batchSize,
    sourceReadTimeoutSeconds,
    cursors,
    frozenPeriods,
    timestampFloor,
    monitor: {
      reconcileDays: file.monitor?.reconcileDays ?? DEFAULT_MONITOR.reconcileDays,
      rawRetentionDays: file.monitor?.rawRetentionDays ?? DEFAULT_MONITOR.rawRetentionDays,
      exceptionRetentionDays: file.monitor?.exceptionRetentionDays ?? DEFAULT_MONITOR.exceptionRetentionDays,
      ledgerRetentionDays: file.monitor?.ledgerRetentionDays ?? DEFAULT_MONITOR.ledgerRetentionDays,
    },
    redshift: redshiftSettings(file),
    schedule: scheduleSettings(file, env),
    timeouts: Object.fromEntries(Object.entries(file.timeouts ?? {}).filter(([, v]) => v !== undefined)),
    retries: {
      attempts: env.ORDER_TRACKING_RETRY_ATTEMPTS
        ? parseWith(whole(1, 10), env.ORDER_TRACKING_RETRY_ATTEMPTS, 'ORDER_TRACKING_RETRY_ATTEMPTS')
        : (file.retries?.attempts ?? DEFAULT_RETRIES.attempts),
      baseDelaySeconds: file.retries?.baseDelaySeconds ?? DEFAULT_RETRIES.baseDelaySeconds,
    },
    stopGraceSeconds: env.ORDER_TRACKING_STOP_GRACE_SECONDS
      ? parseWith(whole(0, 3600), env.ORDER_TRACKING_STOP_GRACE_SECONDS, 'ORDER_TRACKING_STOP_GRACE_SECONDS')
      : (file.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS),
    alertWebhook: alertWebhook(file, env),
    dashboard: {
      host: file.dashboard?.host ?? DEFAULT_DASHBOARD.host,
      port: file.dashboard?.port ?? DEFAULT_DASHBOARD.port,
      token: env.ORDER_TRACKING_DASHBOARD_TOKEN ? env.ORDER_TRACKING_DASHBOARD_TOKEN : null,
    },
  };
};

/** A cron expression `croner` reads (5 fields, or 6 with seconds), or a one-line error naming it. */
export const checkCron = (expression: string, timezone: string, where: string): string => {
  try {
    new Cron(expression, { paused: true, timezone });
  } catch (cause) {
    throw new ConfigError(
      `${where} "${expression}" is not a cron expression: ${(cause as Error).message.split('\n')[0]}`,
      { cause },
    );
  }
  return expression;
};

const scheduleSettings = (file: FileSettings, env: NodeJS.ProcessEnv): ScheduleSettings => {
  const timezone = file.schedule?.timezone ?? DEFAULT_SCHEDULE.timezone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch (cause) {
    throw new ConfigError(
      `schedule.timezone "${timezone}" is not an IANA time zone like UTC or Europe/Paris`,
      {
        cause,
      },
    );
  }
  const pick = (key: 'cycle' | 'monitor', envName: string): string => {
    const fromEnv = env[envName];
    if (fromEnv) return checkCron(fromEnv, timezone, envName);
    const fromFile = file.schedule?.[key];
    return fromFile === undefined ? DEFAULT_SCHEDULE[key] : checkCron(fromFile, timezone, `schedule.${key}`);
  };
  return {
    cycle: pick('cycle', 'ORDER_TRACKING_CYCLE_CRON'),
    monitor: pick('monitor', 'ORDER_TRACKING_MONITOR_CRON'),
    timezone,
  };
};

const alertWebhook = (file: FileSettings, env: NodeJS.ProcessEnv): string | null => {
  const raw = env.ORDER_TRACKING_ALERT_WEBHOOK || file.alerts?.webhook;
  if (!raw) return null;
  if (!/^https?:\/\/[^\s]+$/.test(raw))
    throw new ConfigError(
      'ORDER_TRACKING_ALERT_WEBHOOK (or alerts.webhook) must be an http:// or https:// URL',
    );
  return raw;
};

const redshiftSettings = (file: FileSettings): RedshiftSettings => {
  const s3 = file.redshift?.s3;
  const tables: Record<string, TableLayout> = {};
  for (const [name, layout] of Object.entries(file.redshift?.tables ?? {})) if (layout) tables[name] = layout;
  return {
    s3: s3
      ? {
          bucket: s3.bucket,
          prefix: (s3.prefix ?? '').replace(/^\/+|\/+$/g, ''),
          region: s3.region,
          ...(s3.iamRole ? { iamRole: s3.iamRole } : {}),
          ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
        }
      : null,
    tables,
    insertMaxBytes: file.redshift?.insertMaxBytes ?? DEFAULT_INSERT_MAX_BYTES,
  };
};

/** The source URL, or a one-line error telling how to give one. */
export const requireSource = (settings: Settings): SourceUrl => {
  if (!settings.source)
    throw new ConfigError('no source given: pass --source mysql://… or set ORDER_TRACKING_SOURCE');
  return settings.source;
};
