import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_READ_TIMEOUT_SECONDS } from '../engines/source/source.js';
import { sourceTables, type CursorSpec, type SourceTableName } from '../pipeline/tables.js';
import { ConfigError } from './errors.js';
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
}

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

/** A day: a read silent for longer is not coming back. */
const maxReadTimeoutSeconds = 86_400;

const count = (max: number) => z.coerce.number().int().min(0).max(max);

const cursorOverride = z
  .object({
    cursor: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a column name')
      .optional(),
    kind: z.enum(['id', 'time']).optional(),
    overlap: count(1e12).optional(),
    settleSeconds: count(86_400).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    warehouse: z.string().optional(),
    source: z.string().optional(),
    schemas: z.object({ raw: identifier, mart: identifier, meta: identifier }).partial().strict().optional(),
    batchSize: z.coerce.number().int().min(1).max(1_000_000).optional(),
    sourceReadTimeoutSeconds: z.number().int().min(1).max(maxReadTimeoutSeconds).optional(),
    frozenPeriods: z.array(z.string().regex(/^\d{4}_h[12]$/, 'must be a period like 2025_h2')).optional(),
    tables: z
      .object(Object.fromEntries(sourceTables.map((t) => [t.name, cursorOverride.optional()])))
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

const parseBatchSize = (raw: string, where: string): number => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000)
    throw new ConfigError(`${where} "${raw}" is not a whole number between 1 and 1000000`);
  return n;
};

const parseReadTimeout = (raw: string): number => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > maxReadTimeoutSeconds)
    throw new ConfigError(
      `ORDER_TRACKING_SOURCE_READ_TIMEOUT "${raw}" is not a whole number of seconds between 1 and ${maxReadTimeoutSeconds}`,
    );
  return n;
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
 * has taken it, and 50,000-row batches (tens of MB of short-lived objects) outlived the young
 * generation, so the garbage collector copied and promoted them. 3 M rows MariaDB → PostgreSQL
 * went from 215–240 k rows/s at 20,000–50,000 to 360–450 k rows/s at 5,000 on the bench machine.
 */
export const DEFAULT_BATCH_SIZE = 5_000;

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
    ? parseBatchSize(cli.batchSize, '--batch-size')
    : env.ORDER_TRACKING_BATCH_SIZE
      ? parseBatchSize(env.ORDER_TRACKING_BATCH_SIZE, 'ORDER_TRACKING_BATCH_SIZE')
      : (file.batchSize ?? DEFAULT_BATCH_SIZE);

  const schemaSetting = (key: keyof Schemas, fallback: string): string => {
    const envName = `ORDER_TRACKING_${key.toUpperCase()}_SCHEMA`;
    const fromEnv = env[envName];
    return fromEnv ? parseSchema(fromEnv, envName) : (file.schemas?.[key] ?? fallback);
  };
  const schemas: Schemas = {
    raw: schemaSetting('raw', 'settlement_public'),
    mart: schemaSetting('mart', 'settlement_ods'),
    meta: schemaSetting('meta', 'order_tracking_meta'),
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
    ? parseReadTimeout(env.ORDER_TRACKING_SOURCE_READ_TIMEOUT)
    : (file.sourceReadTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS);

  const frozenRaw = env.ORDER_TRACKING_FROZEN_PERIODS;
  const frozenPeriods = frozenRaw !== undefined ? parsePeriods(frozenRaw) : (file.frozenPeriods ?? []);

  return { warehouse, source, schemas, batchSize, sourceReadTimeoutSeconds, cursors, frozenPeriods };
};

/** The source URL, or a one-line error telling how to give one. */
export const requireSource = (settings: Settings): SourceUrl => {
  if (!settings.source)
    throw new ConfigError('no source given: pass --source mysql://… or set ORDER_TRACKING_SOURCE');
  return settings.source;
};
