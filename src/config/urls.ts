import { ConfigError } from './errors.js';

export type WarehouseUrl =
  | { readonly kind: 'duckdb'; readonly path: string; readonly url: string }
  | { readonly kind: 'postgres' | 'redshift'; readonly url: string; readonly database: string };

export type SourceUrl =
  | { readonly kind: 'sqlite'; readonly path: string; readonly url: string }
  | { readonly kind: 'mysql'; readonly url: string; readonly database: string };

export const defaultWarehouseUrl = 'duckdb:.order-tracking/warehouse.duckdb';

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`: the only form we ever print. */
export const redact = (url: string): string => url.replace(/^([a-z0-9+]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');

const networkUrl = (raw: string, role: string): { database: string } => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch (cause) {
    throw new ConfigError(`${role} URL ${redact(raw)} is not a valid URL`, { cause });
  }
  if (!parsed.hostname) throw new ConfigError(`${role} URL ${redact(raw)} has no host`);
  if (parsed.port && !/^\d+$/.test(parsed.port))
    throw new ConfigError(`${role} URL ${redact(raw)} has a bad port`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/'))
    throw new ConfigError(`${role} URL ${redact(raw)} names no database (expected …/dbname)`);
  return { database };
};

const filePath = (raw: string, scheme: string, role: string): string => {
  const path = raw.slice(scheme.length + 1).replace(/^\/\//, '');
  if (!path) throw new ConfigError(`${role} URL ${raw} names no file (expected ${scheme}:path/to/file)`);
  return path;
};

const schemeOf = (raw: string): string => /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase() ?? '';

/** Parses `--warehouse` / `ORDER_TRACKING_WAREHOUSE` (SPEC §1). */
export const parseWarehouseUrl = (raw: string): WarehouseUrl => {
  const scheme = schemeOf(raw);
  switch (scheme) {
    case 'duckdb':
      return { kind: 'duckdb', path: filePath(raw, scheme, 'warehouse'), url: raw };
    case 'postgres':
    case 'postgresql':
      return { kind: 'postgres', url: raw, ...networkUrl(raw, 'warehouse') };
    case 'redshift':
      return { kind: 'redshift', url: raw, ...networkUrl(raw, 'warehouse') };
    default:
      throw new ConfigError(
        `warehouse URL ${redact(raw)} has an unknown scheme "${scheme}" (use duckdb:, postgres:// or redshift://)`,
      );
  }
};

/** Parses `--source` / `ORDER_TRACKING_SOURCE` (SPEC §1). */
export const parseSourceUrl = (raw: string): SourceUrl => {
  const scheme = schemeOf(raw);
  switch (scheme) {
    case 'sqlite':
      return { kind: 'sqlite', path: filePath(raw, scheme, 'source'), url: raw };
    case 'mysql':
    case 'mariadb':
      return { kind: 'mysql', url: raw.replace(/^mariadb:/i, 'mysql:'), ...networkUrl(raw, 'source') };
    default:
      throw new ConfigError(
        `source URL ${redact(raw)} has an unknown scheme "${scheme}" (use mysql:// or sqlite:)`,
      );
  }
};
