/**
 * Soak test of `order-tracking serve` (issue: "serve running 200 cycles at demo scale keeps its RSS
 * flat"): `npx tsx scripts/soak-serve.ts [--cycles 200] [--cycle-cron '* * * * * *']`.
 *
 * Generates a demo-scale SQLite source (the demo's 80 orders a day, months of history up to now),
 * starts the real CLI's `serve --port 0` on it with a one-second cycle, and keeps data arriving:
 * every second a feeder appends what one 15-minute demo cycle holds (the production rate scaled to
 * the demo's orders per day), stamped with the wall clock serve reads. RSS and heap are sampled
 * from /metrics after 30 cycles (warm-up: DuckDB's cache fills in the first 25) and at each quarter of --cycles; end RSS within 1.2× of
 * the warm-up RSS is "flat" (exit 0), otherwise "grew" (exit 1). Samples go to
 * .order-tracking/soak/results.json.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  createGenerator,
  openSqliteWriter,
  PRODUCTION_RATE,
  type LoadTarget,
} from '../src/generator/index.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '200' },
    'cycle-cron': { type: 'string', default: '* * * * * *' },
    'monitor-cron': { type: 'string', default: '0 * * * * *' },
    'max-minutes': { type: 'string', default: '15' },
  },
});
const cycles = Number(values.cycles);
if (!Number.isInteger(cycles) || cycles < 20)
  throw new Error(`--cycles ${values.cycles}: a whole number ≥ 20`);
const deadline = Date.now() + Number(values['max-minutes']) * 60_000;

const DAY = 86_400;
const HISTORY_DAYS = 240; // past a half-year boundary, like the demo's replay
const ORDERS_PER_DAY = 80; // the demo's scale (src/cli/demo.ts)
const perDemoCycle = ORDERS_PER_DAY / ((PRODUCTION_RATE.newOrders * DAY) / 900);
const load: LoadTarget = {
  newOrders: Math.max(1, Math.round(PRODUCTION_RATE.newOrders * perDemoCycle)),
  trackingUpdates: Math.round(PRODUCTION_RATE.trackingUpdates * perDemoCycle),
  scanEvents: Math.round(PRODUCTION_RATE.scanEvents * perDemoCycle),
};
const soakDir = join('.order-tracking', 'soak');
const dir = join(soakDir, 'run');
const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const log = (line: string): void => void process.stdout.write(`${line}\n`);

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const sourcePath = join(dir, 'source.sqlite');
const wallNow = (): number => Math.floor(Date.now() / 1000);
const generator = createGenerator({
  seed: 42,
  start: wallNow() - HISTORY_DAYS * DAY,
  days: HISTORY_DAYS + 30,
  ordersPerDay: ORDERS_PER_DAY,
  rates: { reactivated: 0.03 },
});
const writer = openSqliteWriter(sourcePath);
await writer.createTables();
log(`Generating ${HISTORY_DAYS} days of demo-scale history into ${sourcePath}…`);
await generator.advanceTo(writer, wallNow());
const s = generator.summary.inserted;
log(`  ${s.ecs_order_info} orders, ${s.uni_tracking_info} tracking rows, ${s.uni_tracking_spath} scans`);
log(
  `Feeding per second: ${load.newOrders} orders, ${load.trackingUpdates} updates, ${load.scanEvents} scans`,
);

let feeding = false;
const feeder = setInterval(() => {
  if (feeding) return;
  feeding = true;
  generator
    .advanceTo(writer, Math.max(generator.now, wallNow()), load)
    .catch((error: unknown) => {
      clearInterval(feeder);
      log(`feeder failed: ${String(error)}`);
    })
    .finally(() => (feeding = false));
}, 1000);

const child = spawn(process.execPath, ['bin/order-tracking.mjs', 'serve', '--port', '0'], {
  env: {
    ...process.env,
    ORDER_TRACKING_WAREHOUSE: `duckdb:${join(dir, 'warehouse.duckdb')}`,
    ORDER_TRACKING_SOURCE: `sqlite:${sourcePath}`,
    ORDER_TRACKING_CYCLE_CRON: values['cycle-cron'],
    ORDER_TRACKING_MONITOR_CRON: values['monitor-cron'],
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const serveLog = createWriteStream(join(dir, 'serve.log'));
child.stderr.pipe(serveLog);
const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
let exitedEarly = false;
void exited.then(() => (exitedEarly = true));
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout }).on('line', (line) => {
    serveLog.write(`[stdout] ${line}\n`);
    const m = /dashboard at (http:\/\/\S+)/.exec(line);
    if (m?.[1]) resolve(m[1]);
  });
  void exited.then((code) => reject(new Error(`serve exited with ${code} before listening; see ${dir}`)));
});
log(`serve listening at ${url} (log: ${join(dir, 'serve.log')})`);

/** Sum of the samples of `name` whose labels contain every one of `labels`. */
const metric = (body: string, name: string, ...labels: string[]): number => {
  let sum = 0;
  for (const line of body.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] === name && labels.every((l) => (m[2] ?? '').includes(l))) sum += Number(m[3]);
  }
  return sum;
};

interface Sample {
  cycles: number;
  failed: number;
  monitors: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
  elapsedS: number;
}
const quarters = [0.25, 0.5, 0.75, 1].map((f) => Math.round(cycles * f));
const WARM_UP = 30;
const checkpoints = [WARM_UP, ...quarters.filter((c) => c > WARM_UP)];
const samples: Sample[] = [];
const started = Date.now();
while (samples.length < checkpoints.length && Date.now() < deadline && !exitedEarly) {
  await new Promise((r) => setTimeout(r, 1000));
  const body = await (await fetch(`${url}/metrics`)).text();
  const done = metric(body, 'order_tracking_runs_total', 'kind="run"', 'state="success"');
  if (done < (checkpoints[samples.length] ?? Infinity)) continue;
  const sample: Sample = {
    cycles: done,
    failed: metric(body, 'order_tracking_runs_total', 'kind="run"', 'state="failed"'),
    monitors: metric(body, 'order_tracking_runs_total', 'kind="monitor"'),
    rssMb: mb(metric(body, 'order_tracking_process_resident_memory_bytes')),
    heapMb: mb(metric(body, 'order_tracking_nodejs_heap_size_used_bytes')),
    externalMb: mb(metric(body, 'order_tracking_nodejs_external_memory_bytes')),
    elapsedS: Math.round((Date.now() - started) / 1000),
  };
  samples.push(sample);
  log(`  ${sample.cycles} cycles: RSS ${sample.rssMb} MB, heap ${sample.heapMb} MB, ${sample.elapsedS} s`);
}
const runs = (await (await fetch(`${url}/api/runs?limit=100`)).json()) as {
  runs: { kind: string; state: string }[];
};
const states = new Map<string, number>();
for (const r of runs.runs) states.set(`${r.kind} ${r.state}`, (states.get(`${r.kind} ${r.state}`) ?? 0) + 1);

child.kill('SIGTERM');
const exitCode = await exited;
clearInterval(feeder);
while (feeding) await new Promise((r) => setTimeout(r, 50));
await writer.close();

log('');
const columns = ['cycles', 'RSS MB', 'heap MB', 'ext MB', 'failed', 'monitors', 'elapsed s'];
const row = (cells: (string | number)[]): void =>
  log(cells.map((c, i) => String(c).padStart(columns[i]!.length + 2)).join(''));
row(columns);
for (const x of samples) row([x.cycles, x.rssMb, x.heapMb, x.externalMb, x.failed, x.monitors, x.elapsedS]);
log(`  last 100 runs (API): ${[...states].map(([k, n]) => `${k} ${n}`).join(', ')}`);
const warm = samples[0];
const end = samples.at(-1);
const complete = samples.length === checkpoints.length;
const flat = warm !== undefined && end !== undefined && end.rssMb <= warm.rssMb * 1.2;
const verdict = flat ? 'flat' : 'grew';
log(
  `${complete ? '' : `incomplete: ${end?.cycles ?? 0} of ${cycles} cycles before the deadline; `}` +
    `RSS ${warm?.rssMb} MB after ${warm?.cycles} cycles → ${end?.rssMb} MB after ${end?.cycles}: ${verdict}` +
    ` (limit 1.2×); serve exited ${exitCode}`,
);
writeFileSync(
  join(soakDir, 'results.json'),
  JSON.stringify(
    { cycles, cycleCron: values['cycle-cron'], load, samples, verdict, complete, exitCode, at: new Date() },
    null,
    2,
  ),
);
process.exit(flat && complete && exitCode === 0 ? 0 : 1);
