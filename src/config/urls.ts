import { ConfigError } from './errors.js';

export type WarehouseUrl =
  | { readonly kind: 'duckdb'; readonly path: string; readonly url: string }
  | { readonly kind: 'postgres' | 'redshift'; readonly url: string; readonly database: string };

export type SourceUrl =
  | { readonly kind: 'sqlite'; readonly path: string; readonly url: string }
  | { readonly kind: 'mysql'; readonly url: string; readonly database: string };

export const defaultWarehouseUrl = 'duckdb:.order-tracking/warehouse.duckdb';

/** File URLs carry no credentials: their paths (which may hold `@`, e.g. `/home/jo@corp/…`) print as given. */
const fileScheme = /^(duckdb|sqlite):/i;

type Range = readonly [start: number, end: number];

/**
 * Where the password of the userinfo lies in `url.slice(0, limit)`: between `scheme://user:` and
 * the LAST `@`. The WHATWG parser behind pg and mysql2 takes the userinfo up to the last `@` of the
 * authority, and an unencoded `/`, `?` or `#` in a password moves that `@` past the authority,
 * where only the last `@` of the string still covers the whole secret. The user is the userinfo up
 * to its first `:`, as the drivers read it. Without `//` everything between the scheme and the
 * last `@` counts as secret (`root:pass@host` has no scheme at all).
 */
const userinfoPassword = (url: string, limit: number): Range | null => {
  const at = url.lastIndexOf('@', limit - 1);
  if (at < 0) return null;
  const prefix = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? 0;
  const colon = url.indexOf(':', prefix);
  return colon >= 0 && colon < at ? [colon + 1, at] : null;
};

/** A query parameter that carries a password (`?password=…`, `&sslpassword=…`): pg honours both. */
const passwordParam = /[?&][^=&#?]*pass[^=&#]*=/i;

/** A `password=` value runs to the end of the string: a `&` or `#` in it must not end the mask. */
const queryPassword = (url: string): Range | null => {
  const match = passwordParam.exec(url);
  return match ? [match.index + match[0].length, url.length] : null;
};

/** The parts of `url` to mask, in order, overlapping ones merged. */
const secretRanges = (url: string): Range[] => {
  if (fileScheme.test(url)) return [];
  const query = queryPassword(url);
  // A query password may hold an `@` too: the userinfo ends before it, unless no `@` is left there.
  const limit = query && url.lastIndexOf('@', query[0] - 1) >= 0 ? query[0] : url.length;
  const ranges = [userinfoPassword(url, limit), query].filter((r): r is Range => r !== null);
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
};

/**
 * `postgres://user:secret@host/db` → `postgres://user:***@host/db`: the only form we ever print.
 * Splits where the drivers split (see `userinfoPassword`), so a password holding `@`, `/`, `:`,
 * `?` or `#` is masked whole, and a `password=` query value to the end of the string. Over-masking
 * an odd URL is acceptable, showing any part of a password never is.
 */
export const redact = (url: string): string => {
  let out = '';
  let from = 0;
  for (const [start, end] of secretRanges(url)) {
    out += `${url.slice(from, start)}***`;
    from = end;
  }
  return out + url.slice(from);
};

/** Percent-decodes each run of `%XX`; a stray `%` (not two hex digits) stays as written, as pg reads it. */
export const safeDecode = (s: string): string =>
  s.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });

/**
 * Every form in which `url`'s password may show up in a message: as written, percent-decoded, as
 * the driver parsed it, and any `password=` query value. Empty for a URL without one.
 */
export const secretsOf = (url: string): string[] => {
  const found = secretRanges(url).map(([start, end]) => url.slice(start, end));
  if (!fileScheme.test(url) && URL.canParse(url)) {
    const parsed = new URL(url);
    found.push(parsed.password);
    for (const [key, value] of parsed.searchParams) if (/pass/i.test(key)) found.push(value);
  }
  return [...new Set(found.flatMap((s) => [s, safeDecode(s)]))].filter(Boolean);
};

/** Why a network URL with credentials did not parse as the user meant: what to percent-encode. */
const encodingHint =
  'special characters in the user name or password must be percent-encoded (/ as %2F, @ as %40, : as %3A, # as %23, ? as %3F, % as %25)';

/** The hint when `raw` has a userinfo, else the expected shape. */
const badUrlHint = (raw: string, example: string): string =>
  raw.includes('@') ? encodingHint : `expected ${example}`;

/**
 * The `ConfigError` for a network URL that does not parse: names the redacted URL and what to fix,
 * never the URL as written (SPEC §1).
 */
export const invalidUrlError = (raw: string, role: string, options?: ErrorOptions): ConfigError =>
  new ConfigError(
    `${role} URL ${redact(raw)} is not a valid URL: ${badUrlHint(raw, `${schemeOf(raw) || 'scheme'}://user:password@host:port/db`)}`,
    options,
  );

/** True when an `@` lies past the authority: a `/`, `?` or `#` in the userinfo cut it short. */
const atPastAuthority = (raw: string): boolean => {
  const start = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0].length ?? 0;
  const end = raw.slice(start).search(/[/?#]/);
  return end >= 0 && raw.indexOf('@', start + end) >= 0;
};

const networkUrl = (raw: string, role: string): { database: string } => {
  if (!URL.canParse(raw)) throw invalidUrlError(raw, role);
  const parsed = new URL(raw);
  // A password like `12/ss` parses as host `user`, port `12`: say what to encode, not just "no database".
  const hint = atPastAuthority(raw) ? `: ${encodingHint}` : '';
  if (!parsed.hostname) throw new ConfigError(`${role} URL ${redact(raw)} has no host${hint}`);
  if (parsed.port && !/^\d+$/.test(parsed.port))
    throw new ConfigError(`${role} URL ${redact(raw)} has a bad port${hint}`);
  const database = safeDecode(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/'))
    throw new ConfigError(`${role} URL ${redact(raw)} names no database${hint || ' (expected …/dbname)'}`);
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
