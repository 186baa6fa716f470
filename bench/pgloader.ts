/**
 * The extraction yardstick (issue 4): pgloader moving the source's scan table MariaDB → PostgreSQL,
 * timed next to the product's extract of the same table. Runs only when `pgloader` is on PATH.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type PgloaderResult =
  | {
      readonly table: string;
      readonly rows: number;
      readonly seconds: number;
      readonly rowsPerSecond: number;
      /** "Maximum resident set size" from `/usr/bin/time -v`; null without it. */
      readonly peakRssMb: number | null;
      readonly version: string;
      readonly options: string;
    }
  | { readonly skipped: string };

/** The first executable `name` on PATH, or null. */
export const onPath = (name: string): string | null => {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
};

const run = (command: string, args: readonly string[]): Promise<{ code: number; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });

/** pgloader's own URL spellings: `mysql://…` and `postgresql://…`. */
const pgloaderUrl = (url: string): string =>
  url.replace(/^mariadb:/i, 'mysql:').replace(/^postgres:/i, 'postgresql:');

/** What pgloader does here: the table only, no indexes, like the product's raw tables. */
const WITH_OPTIONS = 'include drop, create tables, create no indexes, no foreign keys, reset no sequences';

/**
 * Loads `table` from the MySQL database into `schema` of the PostgreSQL database with pgloader's
 * defaults otherwise (workers, batch sizes), and counts what arrived. The load file holding the
 * URLs is private to the run and removed afterwards.
 */
export const runPgloader = async (options: {
  readonly mysqlUrl: string;
  readonly postgresUrl: string;
  readonly table: string;
  readonly schema: string;
  readonly dir: string;
  readonly countRows: () => Promise<number>;
}): Promise<PgloaderResult> => {
  const pgloader = onPath('pgloader');
  if (!pgloader) return { skipped: 'pgloader not installed' };
  const database = decodeURIComponent(new URL(options.mysqlUrl).pathname.slice(1));
  const loadFile = join(options.dir, 'pgloader.load');
  writeFileSync(
    loadFile,
    [
      'load database',
      `  from ${pgloaderUrl(options.mysqlUrl)}`,
      `  into ${pgloaderUrl(options.postgresUrl)}`,
      `  with ${WITH_OPTIONS}`,
      `  including only table names matching '${options.table}'`,
      `  alter schema '${database}' rename to '${options.schema}';`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  try {
    const version = (await run(pgloader, ['--version'])).output.split('\n')[0]?.trim() ?? '';
    const time = onPath('time') ?? null;
    const timeV = time && (await run(time, ['-v', 'true'])).code === 0 ? time : null;
    const started = performance.now();
    const { code, output } = timeV
      ? await run(timeV, ['-v', pgloader, loadFile])
      : await run(pgloader, [loadFile]);
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) {
      const reason = output.split('\n').find((l) => /error|fatal/i.test(l)) ?? `exit code ${code}`;
      return { skipped: `pgloader failed: ${reason.trim().slice(0, 200)}` };
    }
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(output)?.[1];
    const rows = await options.countRows();
    return {
      table: options.table,
      rows,
      seconds,
      rowsPerSecond: rows / seconds,
      peakRssMb: rss ? Number(rss) / 1024 : null,
      version,
      options: WITH_OPTIONS,
    };
  } finally {
    rmSync(loadFile, { force: true });
  }
};
