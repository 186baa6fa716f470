import { UNREACHABLE_CODES } from '../../unreachable.js';
import type { PoolOptions } from 'mysql2';
import { ConfigError } from '../../../config/errors.js';
import { maskIn } from '../../../config/secrets.js';
import { invalidUrlError, redact, safeDecode, secretsOf } from '../../../config/urls.js';

/** How long opening a session may take before the source counts as unreachable. */
export const connectTimeoutMs = 5_000;

/**
 * Pool options for a `mysql://user:pass@host:port/db` URL. The driver options fix how values
 * arrive (see `normalizeMysqlValue`): big integers as strings past 2^53, decimals as strings,
 * dates and datetimes as the server's text, JSON as text, full 4-byte UTF-8.
 */
export const mysqlPoolOptions = (url: string): PoolOptions => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw invalidUrlError(url, 'source', { cause });
  }
  const host = safeDecode(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: safeDecode(parsed.username),
    password: safeDecode(parsed.password),
    database: safeDecode(parsed.pathname.replace(/^\//, '')),
    connectTimeout: connectTimeoutMs,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    dateStrings: true,
    jsonStrings: true,
    connectionLimit: 8,
    maxIdle: 2,
    idleTimeout: 60_000,
    enableKeepAlive: true,
  };
};

/** A connection MySQL's driver lost is as unreachable as one never made. */
const unreachableCodes = new Set([...UNREACHABLE_CODES, 'PROTOCOL_CONNECTION_LOST']);

const loginCodes = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
]);

/** The error's message on one line, with the password (if any) masked: drivers may echo input. */
export const oneLineReason = (error: unknown, password: string): string => {
  const e = error as { message?: unknown; code?: unknown } | null;
  let reason = typeof e?.message === 'string' && e.message ? e.message : '';
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  if (!reason) reason = typeof e?.code === 'string' ? e.code : String(error);
  reason = reason.replace(/\s+/g, ' ').trim();
  return maskIn(reason, [password]);
};

/** The one-line `ConfigError` for a source that cannot be opened (never includes the password). */
export const openFailure = (url: string, error: unknown): ConfigError => {
  const code = (error as { code?: unknown } | null)?.code;
  const displayUrl = redact(url);
  const reason = maskIn(oneLineReason(error, ''), secretsOf(url));
  const message =
    typeof code === 'string' && unreachableCodes.has(code)
      ? `source ${displayUrl} is unreachable: ${reason} (check the host and port, and that the server is running)`
      : code === 'ER_BAD_DB_ERROR'
        ? `source ${displayUrl} cannot be opened: ${reason} (check the database name in the URL)`
        : typeof code === 'string' && loginCodes.has(code)
          ? `source ${displayUrl} refused the login: ${reason} (check the user, password and grants)`
          : `source ${displayUrl} cannot be opened: ${reason}`;
  return new ConfigError(message, { cause: error });
};
