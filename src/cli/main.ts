import { Command, Option } from 'commander';
import { guardOutput, rememberSecrets } from '../config/secrets.js';
import { resolveSettings, type CliOptions } from '../config/settings.js';
import { parseEpoch } from '../config/time.js';
import { createLogger } from '../runner/logger.js';
import { runCycle, type RunSummary } from '../runner/run-cycle.js';
import { ConfigError } from '../config/errors.js';
import { reportError } from './errors.js';
import { listExceptions, resolveExceptions, type ListFlags, type ResolveFlags } from './exceptions.js';
import { initWarehouse } from '../runner/init.js';
import type { MonitorFlags } from './monitor.js';
import { formatSummary } from './run.js';
import { statusCommand } from './status.js';

interface GlobalOptions extends CliOptions {
  readonly verbose?: boolean;
}

/** `ORDER_TRACKING_NOW` (epoch seconds) replays a cycle at another time: demos and tests. */
const clockFromEnv = (): number | undefined => {
  const raw = process.env.ORDER_TRACKING_NOW;
  return raw === undefined || raw === '' ? undefined : parseEpoch(raw, 'ORDER_TRACKING_NOW');
};

/**
 * Aborted by SIGTERM or SIGINT, the reason naming it: the run stops cleanly (its current task gets
 * the grace to finish, SPEC §7; exit 143 or 130, one line). The same signal again falls through to
 * Node's default and ends the process at once.
 */
const stopSignal = (): AbortSignal => {
  const controller = new AbortController();
  for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, () => controller.abort(name));
  return controller.signal;
};

const summaryJson = (summary: RunSummary): string =>
  JSON.stringify({ ...summary, tasks: summary.tasks.map(({ cause: _c, ...t }) => t) });

const parsePort = (raw: string): number => {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 65_535)) throw new ConfigError(`--port "${raw}" is not a port number (0 to 65535)`);
  return n;
};

const program = new Command('order-tracking')
  .description('Keeps an analytics copy of an order-tracking MySQL database in a warehouse.')
  .addOption(
    new Option(
      '--warehouse <url>',
      'warehouse URL (duckdb:<file>, postgres://…); env ORDER_TRACKING_WAREHOUSE',
    ),
  )
  .addOption(new Option('--source <url>', 'source URL (mysql://…, sqlite:<file>); env ORDER_TRACKING_SOURCE'))
  .option('--config <file>', 'JSON settings file (default ./order-tracking.json when present)')
  .option('--batch-size <rows>', 'rows per streamed batch (default 5000); env ORDER_TRACKING_BATCH_SIZE')
  .option('-v, --verbose', 'debug logs and stack traces')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
/** The URLs as given, before they resolve (they may not): their passwords are masked in all output. */
const rememberGivenSecrets = () =>
  rememberSecrets(
    globals().warehouse,
    globals().source,
    process.env.ORDER_TRACKING_WAREHOUSE,
    process.env.ORDER_TRACKING_SOURCE,
  );
program.hook('preAction', rememberGivenSecrets);
const settings = () => {
  const resolved = resolveSettings(globals());
  rememberSecrets(resolved.warehouse.url, resolved.source?.url); // the config file's URLs too
  return resolved;
};

program
  .command('init')
  .description('create schemas, raw, exceptions and metadata tables (idempotent)')
  .action(async () => {
    const statements = await initWarehouse(settings());
    process.stdout.write(`initialized: ${statements.length} statements, all idempotent\n`);
  });

program
  .command('run')
  .description('run one 15-minute cycle')
  .option('--json', 'print the run summary as JSON')
  .action(async (options: { json?: boolean }) => {
    const resolved = settings();
    const log = createLogger(Boolean(globals().verbose));
    const summary = await runCycle({
      settings: resolved,
      log,
      now: clockFromEnv(),
      signal: stopSignal(),
    });
    process.stdout.write(options.json ? `${summaryJson(summary)}\n` : `${formatSummary(summary)}\n`);
  });

program
  .command('task <name>')
  .description(
    'run one task alone under the lease, for another orchestrator: check_drift, extract (with its window and validate), mart_uti, mart_ecs, mart_uts, tests, monitor',
  )
  .option('--json', 'print the run summary as JSON')
  .action(async (name: string, options: { json?: boolean }) => {
    const { parseTaskName, taskCommand } = await import('./task.js');
    const task = parseTaskName(name);
    const resolved = settings();
    const log = createLogger(Boolean(globals().verbose));
    const signal = stopSignal();
    if (task === 'monitor') {
      const { monitorCommand } = await import('./monitor.js');
      const result = await monitorCommand(
        resolved,
        { json: options.json },
        { log, now: clockFromEnv(), signal, trigger: 'task' },
      );
      process.stdout.write(`${result.text}\n`);
      if (result.error) process.stderr.write(`order-tracking: ${result.error}\n`);
      process.exitCode = result.exitCode;
      return;
    }
    const result = await taskCommand(resolved, task, { log, now: clockFromEnv(), signal });
    if (!result.summary) process.stdout.write(`${result.text}\n`);
    else
      process.stdout.write(
        options.json ? `${summaryJson(result.summary)}\n` : `${formatSummary(result.summary)}\n`,
      );
  });

program
  .command('serve')
  .description(
    'run the cycle and the monitor on their schedules, with the dashboard, /healthz, /readyz and /metrics',
  )
  .option(
    '--host <host>',
    'dashboard address (default 127.0.0.1; anything else needs ORDER_TRACKING_DASHBOARD_TOKEN)',
  )
  .option('--port <port>', 'dashboard port (default 8080; 0 picks a free one)')
  .action(async (options: { host?: string; port?: string }) => {
    const { serve } = await import('../serve/serve.js');
    const resolved = settings();
    const port = options.port === undefined ? undefined : parsePort(options.port);
    await serve(resolved, {
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(port !== undefined ? { port } : {}),
      log: createLogger(Boolean(globals().verbose)),
      signal: stopSignal(),
      onListening: (url) =>
        process.stdout.write(
          `order-tracking serve: dashboard at ${url} · cycle "${resolved.schedule.cycle}", monitor "${resolved.schedule.monitor}" (${resolved.schedule.timezone})\n`,
        ),
    });
    process.stdout.write('order-tracking serve: stopped\n');
  });

program
  .command('monitor')
  .description(
    'the daily run: reconcile the last days with the source, data-quality checks, exceptions housekeeping, raw cleanup, maintenance',
  )
  .option('--json', 'print the result as JSON')
  .option('--only <steps>', 'comma-separated: reconcile, dq, exceptions, cleanup, maintenance (default all)')
  .option('--fail-on-findings', 'exit 1 when a step found something (a day that differs, a failing check)')
  .action(async (options: MonitorFlags) => {
    const { monitorCommand } = await import('./monitor.js');
    const result = await monitorCommand(settings(), options, {
      log: createLogger(Boolean(globals().verbose)),
      now: clockFromEnv(),
      signal: stopSignal(),
    });
    process.stdout.write(`${result.text}\n`);
    if (result.error) process.stderr.write(`order-tracking: ${result.error}\n`);
    process.exitCode = result.exitCode;
  });

program
  .command('demo')
  .description('the whole system on the embedded engines with generated data')
  .option('--days <n>', 'days of generated activity', '420')
  .action(async (options: { days: string }) => {
    const { demoCommand } = await import('./demo.js');
    await demoCommand(globals(), Number(options.days));
  });

program
  .command('bench')
  .description(
    'benchmark W3 (initial load), W1 (one 15-minute batch), W2 (24-hour backlog), W4 (the daily monitor) on DuckDB, and on PostgreSQL + MySQL with --warehouse and --source',
  )
  .option(
    '--sf <list>',
    'scale factor(s): 1 = 1/100 of production, 0 < n <= 10; 0.1,1,3 runs each and prints how steps grow',
    '1',
  )
  .option('--reps <n>', 'repetitions of each workload (medians and ranges are printed)', '3')
  .option('--json <file>', 'write the results as JSON here (default .order-tracking/bench/results.json)')
  .option(
    '--workloads <list>',
    'W3,W1,W2,W4 (default; W2 only from SF 0.1: its 8.6 M source rows do not shrink with SF); W3 always runs',
  )
  .action(async (options: { sf: string; reps?: string; json?: string; workloads?: string }) => {
    const { benchCommand } = await import('./bench.js');
    await benchCommand(globals(), options);
  });

program
  .command('sql <task>')
  .description('print the SQL a task would run now, without running it (mart_uti, mart_ecs, mart_uts, tests)')
  .option('--offline', 'plan from stand-in facts without connecting (the default for redshift://)')
  .option('--connect', "plan from the warehouse's current facts (the default but for redshift://)")
  .action(async (task: string, options: { offline?: boolean; connect?: boolean }) => {
    const { sqlCommand } = await import('./sql.js');
    const resolved = settings();
    // A review of what would be sent to a production cluster should not need to reach it.
    const offline =
      options.offline === true || (resolved.warehouse.kind === 'redshift' && options.connect !== true);
    process.stdout.write(
      await sqlCommand(resolved, task, clockFromEnv() ?? Math.floor(Date.now() / 1000), { offline }),
    );
  });

program
  .command('reset-watermark <table>')
  .description(
    'set where the next run reads a table from (--to a time or id), or remove its watermark so it reads the table again; under the lease',
  )
  .option(
    '--to <value>',
    'epoch seconds or a UTC date (2026-05-28 14:00) for update_time; an id for id cursors',
  )
  .action(async (table: string, options: { to?: string }) => {
    const { resetWatermarkCommand } = await import('./reset-watermark.js');
    process.stdout.write(
      `${await resetWatermarkCommand(settings(), table, options.to, clockFromEnv() ?? Math.floor(Date.now() / 1000))}\n`,
    );
  });

program
  .command('status')
  .description('last runs, watermarks and lag, table sizes, hist periods, open exceptions (read-only)')
  .option('--json', 'print one JSON object')
  .action(async (options: { json?: boolean }) => {
    const text = await statusCommand(settings(), { json: Boolean(options.json), now: clockFromEnv() });
    process.stdout.write(`${text}\n`);
  });

{
  const exceptions = program.command('exceptions').description('read and resolve exceptions');
  exceptions
    .command('list')
    .description(
      'exceptions per type: how many, how many open, oldest and newest detected; --rows lists them, newest first',
    )
    .option('--rows', 'the exceptions themselves, newest first (--id and --order imply it)')
    .option('--open', 'only open (unresolved) exceptions')
    .option(
      '--type <type>',
      'NULL_ORDER_ID, FUTURE_TIMESTAMP, ARCHIVE_ROUTING_GAP, ARCHIVE_ROUTING_GAP_UTS or DQ_*',
    )
    .option('--id <n>', 'the exception with this exception_id (rows)')
    .option('--order <order_id>', 'only this order (rows)')
    .option('--limit <n>', 'with rows: at most n (default 50)')
    .option('--json', 'print one JSON object, its "view" byType or rows')
    .action(async (options: ListFlags) => {
      process.stdout.write(`${await listExceptions(settings(), options)}\n`);
    });
  exceptions
    .command('resolve')
    .description('mark matching open exceptions resolved (exit 1 when none matches)')
    .option('--id <n>', 'the exception with this exception_id')
    .option('--type <type>', 'every open exception of this type')
    .option('--order <order_id>', 'with --type: only this order')
    .option('--note <text>', 'appended to the notes')
    .action(async (options: ResolveFlags) => {
      process.stdout.write(`${await resolveExceptions(settings(), options)}\n`);
    });
}

guardOutput();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  rememberGivenSecrets();
  process.exitCode = reportError(error, Boolean(globals().verbose));
}
