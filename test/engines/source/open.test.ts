import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseSourceUrl } from '../../../src/config/urls.js';
import { openSource } from '../../../src/engines/source/open.js';
import { mysqlServer, runMysqlSuites } from './harness.js';

/** A local port nothing listens on: bound, then released. */
const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const openError = async (url: string): Promise<ConfigError> => {
  const error: unknown = await openSource(parseSourceUrl(url)).then(
    async (source) => {
      await source.close();
      throw new Error(`${url} opened`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as ConfigError).message;
  expect(message).not.toContain('\n');
  return error as ConfigError;
};

describe('opening a SQLite source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ot-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens an existing file and shows its URL', async () => {
    const path = join(dir, 'ok.sqlite');
    new Database(path).close();
    const source = await openSource(parseSourceUrl(`sqlite:${path}`));
    expect(source.displayUrl).toBe(`sqlite:${path}`);
    expect(await source.describeTable('nothing')).toBeNull();
    await source.close();
  });

  it('rejects a missing file with a one-line ConfigError, creating nothing', async () => {
    const path = join(dir, 'missing.sqlite');
    const error = await openError(`sqlite:${path}`);
    expect(error.message).toMatch(new RegExp(`^source sqlite:${path} does not exist`));
    expect(() => new Database(path, { fileMustExist: true })).toThrow();
  });
});

describe('opening a MySQL source', () => {
  const secret = 'pw-S3cret-' + randomBytes(4).toString('hex');

  it('rejects an unreachable server, naming the redacted URL and the reason', async () => {
    const port = await closedPort();
    const error = await openError(`mysql://root:${secret}@127.0.0.1:${port}/ot_test`);
    expect(error.message).toMatch(
      new RegExp(
        `^source mysql://root:\\*\\*\\*@127\\.0\\.0\\.1:${port}/ot_test is unreachable: .*ECONNREFUSED`,
      ),
    );
    expect(error.message).not.toContain(secret);
    expect(error.exitCode).toBe(2);
  });

  describe.skipIf(!runMysqlSuites)('with the test server', () => {
    const server = `${mysqlServer.host}:${mysqlServer.port}`;

    it('rejects an unknown database', async () => {
      const database = `ot_missing_${randomBytes(6).toString('hex')}`;
      const error = await openError(`mysql://${mysqlServer.user}@${server}/${database}`);
      expect(error.message).toMatch(
        new RegExp(
          `^source mysql://root@${server.replaceAll('.', '\\.')}/${database} cannot be opened: .*${database}`,
        ),
      );
      expect(error.message).toMatch(/Unknown database/);
    });

    it('rejects a wrong password without ever printing it', async () => {
      const error = await openError(`mysql://${mysqlServer.user}:${secret}@${server}/mysql`);
      expect(error.message).toContain(`source mysql://root:***@${server}/mysql refused the login`);
      expect(error.message).not.toContain(secret);
      expect(String((error.cause as Error | undefined)?.message)).not.toContain(secret);
    });

    it('opens a reachable database and shows its URL', async () => {
      const source = await openSource(parseSourceUrl(`mariadb://${mysqlServer.user}@${server}/mysql`));
      expect(source.displayUrl).toBe(`mysql://root@${server}/mysql`);
      expect(await source.describeTable('ot_absent')).toBeNull();
      await source.close();
    });
  });
});
