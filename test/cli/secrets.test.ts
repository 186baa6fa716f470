/**
 * No password is ever printed (SPEC §1): every command that reads URLs, with and without
 * `--verbose`, over URLs a user might really type (a password holding `@`, `:` or `/`, a user name
 * holding `@`, a password in the query, unreachable ports), given by flag,
 * environment or config file. PostgreSQL trusts any password, so a warehouse URL with one opens and
 * `init`, `run` and `status` really run; MariaDB refuses a wrong root password, so the source fails
 * to log in. The secret must appear nowhere in stdout or stderr: the error line, JSON, log lines,
 * stack traces.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceDdl } from '../../src/generator/source-ddl.js';
import { cli, type CliResult } from '../support/cli.js';
import { skipServers } from '../support/engines.js';

const NOW = 1_780_000_000;
const pgAdmin = 'postgres://postgres@127.0.0.1:5432/postgres';
const mysqlAdmin = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const name = `ot_secrets_${randomBytes(5).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'ot-secrets-'));

type Via = 'flag' | 'env' | 'config';
interface Given {
  readonly url: string;
  readonly via: Via;
}
interface Case {
  readonly name: string;
  /** `db` is this case's own PostgreSQL database: cases run side by side, each under its own lease. */
  readonly warehouse: (db: string) => Given;
  readonly source: Given;
  readonly secrets: readonly string[];
  /** The warehouse opens and the source logs in: init, run and status must succeed. */
  readonly works?: true;
}

const pgUrl = (userinfo: string, db: string, port = 5432) => `postgres://${userinfo}@127.0.0.1:${port}/${db}`;
const myUrl = (userinfo: string, port = 3306) => `mysql://${userinfo}@127.0.0.1:${port}/${name}`;
const goodSource: Given = { url: myUrl('root'), via: 'flag' };
/** A warehouse that opens (trust auth ignores the password) so that the source is really tried. */
const openingWarehouse = (db: string): Given => ({ url: pgUrl('postgres:p@ssS3cr3tC', db), via: 'env' });

const cases: readonly Case[] = [
  {
    name: 'a warehouse password holding @, another in the query (the warehouse opens)',
    warehouse: (db) => ({ url: `${pgUrl('postgres:p@ssS3cr3tB', db)}?password=p@ssS3cr3tQ`, via: 'flag' }),
    source: goodSource,
    secrets: ['S3cr3tB', 'S3cr3tQ'],
    works: true,
  },
  {
    name: 'a warehouse user name holding @ (login refused)',
    warehouse: (db) => ({ url: pgUrl('postgres@corp:S3cr3tY', db), via: 'env' }),
    source: goodSource,
    secrets: ['S3cr3tY'],
  },
  {
    name: 'a warehouse password holding / (not a URL)',
    warehouse: (db) => ({ url: pgUrl('postgres:pa/ssS3cr3tW', db), via: 'config' }),
    source: goodSource,
    secrets: ['S3cr3tW'],
  },
  {
    name: 'a warehouse password holding @ and : on an unreachable port',
    warehouse: (db) => ({ url: pgUrl('postgres:p@ss:S3cr3tU', db, 1), via: 'flag' }),
    source: goodSource,
    secrets: ['S3cr3tU'],
  },
  {
    name: 'a source password holding @ (login refused)',
    warehouse: openingWarehouse,
    source: { url: myUrl('root:p@ssS3cr3tM'), via: 'flag' },
    secrets: ['S3cr3tC', 'S3cr3tM'],
  },
  {
    name: 'a source user name holding @ (login refused)',
    warehouse: openingWarehouse,
    source: { url: myUrl('root@corp:S3cr3tX'), via: 'env' },
    secrets: ['S3cr3tC', 'S3cr3tX'],
  },
  {
    name: 'a source password holding / (not a URL)',
    warehouse: openingWarehouse,
    source: { url: myUrl('root:pa/ssS3cr3tO'), via: 'config' },
    secrets: ['S3cr3tC', 'S3cr3tO'],
  },
  {
    name: 'a source password holding @ and : on an unreachable port',
    warehouse: openingWarehouse,
    source: { url: myUrl('root:p@ss:S3cr3tN', 1), via: 'flag' },
    secrets: ['S3cr3tC', 'S3cr3tN'],
  },
];

const commands: readonly (readonly string[])[] = [
  ['init'],
  ['run'],
  ['run', '--json'],
  ['status'],
  ['status', '--json'],
  ['exceptions', 'list'],
  ['exceptions', 'list', '--json'],
  ['exceptions', 'resolve', '--type', 'NULL_ORDER_ID'],
  ['sql', 'mart_uti'],
];

/** A few CLI processes at a time: the machine has two cores. */
const limit = (slots: number) => {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
};
const limited = limit(3);

const databases = cases.map((_, i) => `${name}_${i}`);

/** The CLI's arguments and environment for a case, each URL given the way the case says. */
const invocation = (c: Case, i: number) => {
  const args: string[] = [];
  const env: Record<string, string> = { ORDER_TRACKING_NOW: String(NOW) };
  const file: Record<string, string> = {};
  const give = (given: Given, flag: string, envName: string, key: string) => {
    if (given.via === 'flag') args.push(flag, given.url);
    if (given.via === 'env') env[envName] = given.url;
    if (given.via === 'config') file[key] = given.url;
  };
  give(c.warehouse(databases[i]!), '--warehouse', 'ORDER_TRACKING_WAREHOUSE', 'warehouse');
  give(c.source, '--source', 'ORDER_TRACKING_SOURCE', 'source');
  if (Object.keys(file).length) {
    const path = join(dir, `case-${i}.json`);
    writeFileSync(path, JSON.stringify(file));
    args.push('--config', path);
  }
  return { args, env };
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(await skipServers())('no command prints a password', () => {
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: pgAdmin });
    await admin.connect();
    for (const db of databases) await admin.query(`create database ${db}`);
    await admin.end();
    const root = await mysql.createConnection(mysqlAdmin);
    await root.query(`create database ${name} character set utf8mb4`);
    await root.query(`use ${name}`);
    for (const statement of sourceDdl('mysql')) await root.query(statement);
    // A NULL order id opens a NULL_ORDER_ID exception, so `exceptions resolve` has one to resolve.
    await root.query(
      `insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time)
       values (1, 'OT1', 'TN1', 'IN_TRANSIT', 'DHL', 'Köln', ?), (2, null, 'TN2', 'IN_TRANSIT', 'DHL', 'Lyon', ?)`,
      [NOW - 3600, NOW - 3000],
    );
    await root.end();
  });

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: pgAdmin });
    await admin.connect();
    for (const db of databases) await admin.query(`drop database if exists ${db} with (force)`);
    await admin.end();
    const root = await mysql.createConnection(mysqlAdmin);
    await root.query(`drop database if exists ${name}`);
    await root.end();
  });

  // Each case runs its 18 calls in order, queued behind the other cases' calls: a generous timeout.
  it.concurrent.for(cases.map((c, i) => ({ ...c, i })))(
    '$name',
    { timeout: 600_000 },
    async (c, { expect }) => {
      const { args, env } = invocation(c, c.i);
      const results: { command: string; result: CliResult }[] = [];
      // In order, so that `run` finds what `init` created and `resolve` what `run` opened.
      for (const verbose of [false, true])
        for (const command of commands) {
          const argv = [...args, ...(verbose ? ['--verbose'] : []), ...command];
          const result = await limited(() => cli(argv, env));
          results.push({ command: `${verbose ? '--verbose ' : ''}${command.join(' ')}`, result });
        }
      for (const { command, result } of results)
        for (const secret of c.secrets) {
          expect(result.stdout, `${command}: stdout`).not.toContain(secret);
          expect(result.stderr, `${command}: stderr`).not.toContain(secret);
        }
      const code = (command: string) => results.find((r) => r.command === command)?.result.code;
      if (c.works)
        expect([code('init'), code('run'), code('status'), code('exceptions list')]).toEqual([0, 0, 0, 0]);
      else expect([code('init'), code('run')]).toEqual([2, 2]);
    },
  );
});

describe('the output guard', () => {
  // `exceptions list` echoes an unknown --type: a message we format without any URL in it.
  it.each([
    ['a flag', 'Zebra-S3cr3t', (url: string) => ({ args: ['--source', url], env: {} })],
    [
      'the environment, percent-encoded',
      'Zebra%2DS3cr3t',
      (url: string) => ({ args: [], env: { ORDER_TRACKING_SOURCE: url } }),
    ],
    [
      'the config file',
      'Zebra-S3cr3t',
      (url: string) => {
        const path = join(dir, 'guard.json');
        writeFileSync(path, JSON.stringify({ source: url }));
        return { args: ['--config', path], env: {} };
      },
    ],
  ] as const)('masks a password given by %s wherever it is printed', async (_, written, give) => {
    const { args, env } = give(`mysql://root:${written}@127.0.0.1:1/db`);
    const r = await cli(
      [
        ...args,
        '--warehouse',
        `duckdb:${join(dir, 'guard.duckdb')}`,
        'exceptions',
        'list',
        '--type',
        'Zebra-S3cr3t',
      ],
      env,
    );
    expect(r.stderr).toMatch(/^order-tracking: --type "\*\*\*" is not an exception type/);
    expect(r.stderr + r.stdout).not.toContain('S3cr3t');
    expect(r.code).toBe(2);
  });
});
