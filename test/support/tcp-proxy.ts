/**
 * A TCP proxy on 127.0.0.1 in front of the test MariaDB, for tests of a source connection that dies
 * or stalls mid-stream: each client connection gets its own server connection, and once the server
 * has sent one connection more than `afterBytes` bytes (only a long result does), that connection
 * breaks the way the test asked. Every other connection (pool look-ups, the snapshot's own
 * statements) passes through untouched.
 */
import net from 'node:net';

/**
 * What happens to a connection past the threshold: `destroy` closes both sides (the proxy dying),
 * `reset` sends the client a TCP RST, `stall` stops forwarding either way with both sockets left
 * open, `hold` stops reading the server until `release()` (the server blocks writing to the net).
 */
export type Break = 'destroy' | 'reset' | 'stall' | 'hold';

export interface TcpProxy {
  /** The port to put in the source URL instead of the server's. */
  readonly port: number;
  /** Resolves once a connection has crossed the threshold and broken. */
  readonly broken: Promise<void>;
  /** After `hold`: forwards the server's bytes again. */
  release(): void;
  close(): Promise<void>;
}

export const startTcpProxy = async (
  target: { readonly host: string; readonly port: number },
  afterBytes: number,
  how: Break,
  /** Connections that break at most (default all): later ones pass, as a retry's would. */
  times = Infinity,
): Promise<TcpProxy> => {
  let breaks = 0;
  const sockets = new Set<net.Socket>();
  const holding = new Set<net.Socket>();
  let markBroken: () => void = () => undefined;
  const broken = new Promise<void>((resolve) => (markBroken = resolve));
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
      // The other side going away is what these tests are about: never an unhandled error here.
      s.on('error', () => undefined);
    }
    let sent = 0;
    let tripped = false;
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      sent += chunk.length;
      if (tripped || sent <= afterBytes || breaks >= times) return;
      tripped = true;
      breaks++;
      markBroken();
      if (how === 'destroy') {
        upstream.destroy();
        client.destroy();
      } else if (how === 'reset') {
        upstream.destroy();
        client.resetAndDestroy();
      } else {
        upstream.pause();
        if (how === 'stall') stalled = true;
        else holding.add(upstream);
      }
    });
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    broken,
    release() {
      for (const s of holding) s.resume();
      holding.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
