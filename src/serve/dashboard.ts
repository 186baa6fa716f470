/**
 * The dashboard `serve` answers beside /healthz, /readyz and /metrics (SPEC §7): a page of plain
 * ES modules (`dashboard/`), Chart.js from node_modules, and the JSON API of `api.ts`. Read-only
 * unless a token is configured (`ORDER_TRACKING_DASHBOARD_TOKEN`); a write sends it as
 * `Authorization: Bearer <token>`, never as a cookie, so no other site can make a browser send it.
 * No response carries a secret: URLs are the redacted ones, settings are never sent whole, and
 * error messages are masked.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigintAsJson } from '../engines/types.js';
import { maskIn, maskSecrets } from '../config/secrets.js';
import { secretsOf } from '../config/urls.js';
import {
  ApiError,
  choiceField,
  describeTarget,
  MAX_ROWS,
  orderField,
  parseResolveBody,
  readExceptions,
  readHistory,
  readOverview,
  readRun,
  readRuns,
  readTables,
  resolveExceptions,
  runStates,
  typeField,
  wholeField,
} from './api.js';
import type { ServeContext } from './context.js';

/** Every response of the dashboard: no inline script or style, no framing, no sniffing. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const here = dirname(fileURLToPath(import.meta.url));

/** Chart.js's browser build, resolved from the installed package (never a CDN). */
const chartPath = (): string =>
  join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

interface StaticFile {
  readonly path: () => string;
  readonly type: string;
}

const staticFiles: Readonly<Record<string, StaticFile>> = {
  '/': { path: () => join(here, 'dashboard', 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { path: () => join(here, 'dashboard', 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/app.css': { path: () => join(here, 'dashboard', 'app.css'), type: 'text/css; charset=utf-8' },
  '/favicon.svg': { path: () => join(here, 'dashboard', 'favicon.svg'), type: 'image/svg+xml' },
  '/vendor/chart.umd.min.js': { path: chartPath, type: 'text/javascript; charset=utf-8' },
};

/** Read once: the files do not change while serve runs. */
const fileCache = new Map<string, Promise<Buffer>>();
const staticBody = (path: string, file: StaticFile): Promise<Buffer> => {
  let body = fileCache.get(path);
  if (!body) {
    body = readFile(file.path());
    body.catch(() => fileCache.delete(path));
    fileCache.set(path, body);
  }
  return body;
};

/** The largest request body taken (a resolve is a few hundred bytes). */
const MAX_BODY = 16 * 1024;

/** Every secret this process knows of: a response never holds one, even in an error message. */
const secretsOfContext = (context: ServeContext): string[] => {
  const { settings } = context;
  return [
    ...(settings.dashboard.token ? [settings.dashboard.token] : []),
    ...(settings.alertWebhook ? [settings.alertWebhook] : []),
    ...secretsOf(settings.warehouse.url),
    ...(settings.source ? secretsOf(settings.source.url) : []),
  ];
};

const masked = (context: ServeContext, text: string): string =>
  maskSecrets(maskIn(text, secretsOfContext(context)));

const send = (
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head: boolean,
  extra: Record<string, string> = {},
): void => {
  const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    ...securityHeaders,
    'Content-Type': type,
    'Content-Length': String(buffer.length),
    ...extra,
  });
  res.end(head ? undefined : buffer);
};

const sendJson = (
  context: ServeContext,
  res: ServerResponse,
  status: number,
  value: unknown,
  head = false,
  extra: Record<string, string> = {},
): void =>
  send(
    res,
    status,
    'application/json; charset=utf-8',
    // Every string masked: a driver message or a stored note that echoes a secret never leaves,
    // and the JSON's structure stays whole whatever the secret.
    JSON.stringify(value, (key: string, v: unknown) =>
      typeof v === 'string' ? masked(context, v) : bigintAsJson(key, v),
    ),
    head,
    { 'Cache-Control': 'no-store', ...extra },
  );

const sendError = (
  context: ServeContext,
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void =>
  sendJson(context, res, status, { error: (message.split('\n')[0] ?? '').slice(0, 500) }, false, extra);

/** `a` and `b` equal, in time independent of where they differ (hashes: equal-length buffers). */
export const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** Whether the request may write: 403 read-only, 401 no token sent, 403 a wrong one. */
const authorize = (context: ServeContext, req: IncomingMessage): void => {
  const expected = context.settings.dashboard.token;
  if (expected === null)
    throw new ApiError(
      403,
      'the dashboard is read-only: start serve with ORDER_TRACKING_DASHBOARD_TOKEN set to resolve exceptions',
    );
  const header = req.headers.authorization;
  const given = header === undefined ? null : (/^Bearer +(\S+) *$/i.exec(header)?.[1] ?? null);
  if (given === null)
    throw new ApiError(401, 'resolving needs the dashboard token (Authorization: Bearer …)');
  if (!sameSecret(given, expected)) throw new ApiError(403, 'the dashboard token is wrong');
};

const readBody = async (req: IncomingMessage): Promise<unknown> => {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, `body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ApiError(400, 'body is not JSON');
  }
};

/** A query parameter, `undefined` when absent or empty. */
const param = (url: URL, name: string): string | undefined => {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? undefined : v;
};

type Route = (url: URL, match: RegExpExecArray, req: IncomingMessage) => Promise<unknown>;

const routes = (context: ServeContext): { pattern: RegExp; method: 'GET' | 'POST'; run: Route }[] => [
  { pattern: /^\/api\/overview$/, method: 'GET', run: () => readOverview(context) },
  {
    pattern: /^\/api\/history$/,
    method: 'GET',
    run: (url) => {
      const days = param(url, 'days');
      return readHistory(context, days === undefined ? 7 : wholeField(days, 'days', 1, 90));
    },
  },
  {
    pattern: /^\/api\/runs$/,
    method: 'GET',
    run: (url) => {
      const state = param(url, 'state');
      const kind = param(url, 'kind');
      const before = param(url, 'before');
      const limit = param(url, 'limit');
      if (kind !== undefined && !/^[a-z_]{1,32}$/.test(kind))
        throw new ApiError(400, 'kind must be a run kind such as run or monitor');
      return readRuns(context, {
        ...(state !== undefined ? { state: choiceField(state, 'state', runStates) } : {}),
        ...(kind !== undefined ? { kind } : {}),
        ...(before !== undefined ? { before: wholeField(before, 'before', 1, Number.MAX_SAFE_INTEGER) } : {}),
        limit: limit === undefined ? 100 : wholeField(limit, 'limit', 1, MAX_ROWS),
      });
    },
  },
  {
    pattern: /^\/api\/runs\/([^/]+)$/,
    method: 'GET',
    run: (_url, match) => readRun(context, wholeField(match[1], 'run id', 1, Number.MAX_SAFE_INTEGER)),
  },
  {
    pattern: /^\/api\/exceptions$/,
    method: 'GET',
    run: (url) => {
      const type = param(url, 'type');
      const order = param(url, 'order');
      const limit = param(url, 'limit');
      return readExceptions(context, {
        status: choiceField(param(url, 'status') ?? 'open', 'status', ['open', 'resolved', 'all'] as const),
        ...(type !== undefined ? { type: typeField(type) } : {}),
        ...(order !== undefined ? { orderId: orderField(order) } : {}),
        limit: limit === undefined ? 200 : wholeField(limit, 'limit', 1, MAX_ROWS),
      });
    },
  },
  {
    pattern: /^\/api\/exceptions\/resolve$/,
    method: 'POST',
    run: async (_url, _match, req) => {
      authorize(context, req);
      const { target, note } = parseResolveBody(await readBody(req));
      const result = await resolveExceptions(context, target, note);
      context.log.info(
        { resolved: result.resolved, target: describeTarget(target) },
        'exceptions resolved through the dashboard',
      );
      return result;
    },
  },
  { pattern: /^\/api\/tables$/, method: 'GET', run: () => readTables(context) },
];

/**
 * Answers a dashboard request: the page, its files, the API. Returns `false` for a path that is
 * none of them (serve answers it: 404), `true` once it answered.
 */
export const handleDashboard = async (
  context: ServeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> => {
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const path = url.pathname === '/index.html' ? '/' : url.pathname;
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';

  const file = staticFiles[path];
  if (file) {
    if (method !== 'GET' && !head) {
      sendError(context, res, 405, `${method} is not allowed on ${path}`, { Allow: 'GET, HEAD' });
      return true;
    }
    try {
      const body = await staticBody(path, file);
      send(res, 200, file.type, body, head, { 'Cache-Control': 'no-cache' });
    } catch (error) {
      context.log.warn({ path, error: (error as Error).message }, 'dashboard file unreadable');
      sendError(context, res, 500, `${path} cannot be read`);
    }
    return true;
  }

  if (path === '/favicon.ico') {
    res.writeHead(301, { ...securityHeaders, Location: '/favicon.svg', 'Content-Length': '0' });
    res.end();
    return true;
  }

  if (!path.startsWith('/api/') && path !== '/api') return false;

  const matching = routes(context).filter((r) => r.pattern.test(path));
  if (matching.length === 0) {
    sendError(context, res, 404, `no API route ${path}`);
    return true;
  }
  const wanted = head ? 'GET' : method;
  const route = matching.find((r) => r.method === wanted);
  if (!route) {
    const allow = [...new Set(matching.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))];
    sendError(context, res, 405, `${method} is not allowed on ${path} (${allow.join(', ')})`, {
      Allow: allow.join(', '),
    });
    return true;
  }
  try {
    const value = await route.run(url, route.pattern.exec(path) as RegExpExecArray, req);
    sendJson(context, res, 200, value, head);
  } catch (error) {
    if (error instanceof ApiError) {
      sendError(
        context,
        res,
        error.status,
        error.message,
        error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="order-tracking"' } : {},
      );
    } else {
      const message = masked(context, error instanceof Error ? error.message : String(error));
      context.log.warn({ path, error: message.split('\n')[0] }, 'dashboard read failed');
      sendError(context, res, 500, `the warehouse read failed: ${message}`);
    }
  }
  return true;
};
