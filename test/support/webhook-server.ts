/**
 * A webhook receiver on 127.0.0.1 (port chosen by the system) that records every POST, for the
 * alert tests: what `serve` sends, how often, and that nothing secret is in it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as sent. */
  readonly raw: string;
  /** The body parsed as JSON (`undefined` when it is not JSON). */
  readonly json: unknown;
}

export interface WebhookServer {
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string;
  /** Every request received so far, oldest first (answered or not). */
  readonly received: readonly ReceivedPost[];
  /** The requests received since the last call (or since the start). */
  take(): ReceivedPost[];
  /**
   * How the next requests are answered: an HTTP status, or `hang` (never answered until the
   * server closes). Default 200.
   */
  answer(mode: number | 'hang'): void;
  close(): Promise<void>;
}

export const startWebhookServer = async (): Promise<WebhookServer> => {
  const received: ReceivedPost[] = [];
  let taken = 0;
  let mode: number | 'hang' = 200;
  const server = createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      received.push({ path: request.url ?? '', headers: request.headers, raw, json });
      if (mode === 'hang') return;
      response.writeHead(mode, { 'content-type': 'text/plain' }).end(mode < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    take() {
      const fresh = received.slice(taken);
      taken = received.length;
      return fresh;
    },
    answer(next) {
      mode = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
