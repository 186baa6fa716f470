import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config/errors.js';
import { maskSecrets } from '../config/secrets.js';
import type { Value } from '../engines/types.js';
import { withConnection } from '../engines/warehouse/warehouse.js';
import { metaTables } from '../pipeline/meta.js';
import type { ServeContext } from './context.js';
import { handleDashboard } from './dashboard.js';
import type { createMetrics } from './metrics.js';

type Metrics = ReturnType<typeof createMetrics>;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/**
 * Ready when the last cycle succeeded within two cycle intervals (SPEC §7 `/readyz`): a pipeline
 * that has not landed for that long is not serving fresh data, whatever its process says.
 */
const readiness = async (context: ServeContext): Promise<{ ready: boolean; reason: string }> => {
  const { warehouse, settings } = context;
  const runs = metaTables(settings.schemas).runs;
  const row = await withConnection(
    warehouse,
    async (c) =>
      (
        await c.query<{ ended_at: Value }>(
          `select max(ended_at) as ended_at from ${warehouse.dialect.table(runs.schema, runs.name)} where kind = 'run' and state = 'success' and coalesce(triggered_by, '') <> 'task'`,
        )
      )[0],
  );
  const ended = row?.ended_at;
  if (ended === null || ended === undefined) return { ready: false, reason: 'no cycle has succeeded yet' };
  // The drivers read ledger timestamps (UTC) as ISO text; a bare `2026-12-04 21:00:00` is UTC too.
  const raw = String(ended);
  const at = Number.isNaN(Date.parse(raw)) ? Date.parse(`${raw.replace(' ', 'T')}Z`) : Date.parse(raw);
  const ago = (Date.now() - at) / 1000;
  const limit = 2 * context.cycleIntervalSeconds;
  return ago <= limit
    ? { ready: true, reason: `last cycle succeeded ${Math.round(ago)} s ago` }
    : {
        ready: false,
        reason: `last cycle succeeded ${Math.round(ago)} s ago, more than ${limit} s (two intervals)`,
      };
};

const route = async (
  context: ServeContext,
  metrics: Metrics,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'alive' });
  if (req.method === 'GET' && path === '/readyz') {
    const { ready, reason } = await readiness(context);
    return json(res, ready ? 200 : 503, { ready, reason });
  }
  if (req.method === 'GET' && path === '/metrics') {
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
    return;
  }
  if (!(await handleDashboard(context, req, res))) json(res, 404, { error: `no such page: ${path}` });
};

/** Listens on `host:port` (0: any free port); `close` stops accepting and ends open connections. */
export const startHttp = async (
  context: ServeContext,
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ readonly url: string; close(): Promise<void> }> => {
  const server = createServer((req, res) => {
    route(context, metrics, req, res).catch((error: unknown) => {
      const line = maskSecrets((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '');
      context.log.warn({ path: req.url }, `request failed: ${line}`);
      if (!res.headersSent) json(res, 500, { error: line });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          error.code === 'EADDRINUSE'
            ? `serve: ${host}:${port} is in use: pass --port or set dashboard.port`
            : `serve: cannot listen on ${host}:${port}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
