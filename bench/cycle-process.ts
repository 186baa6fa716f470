/**
 * The measured cycles run in a process of their own per engine, the process `order-tracking serve`
 * would be: W3, W1 and W2 one after the other, so later cycles run warmed-up code, as a scheduler's
 * do. The peak RSS is then the pipeline's: the bench process also holds what the generator left
 * behind (after writing W2's 8.6 M-row backlog it started the cycle at 460-530 MB, 176 MB of it V8
 * heap), which the in-process measurement before 2026-11-29 counted.
 *
 * The parent forks this file under tsx's loader and sends one request per cycle; the child runs
 * `init` (W3) and the cycle, and answers with the run summary, the statement timings and its
 * memory: the peak of its resident set during the request (the kernel's high-water mark, reset
 * before each request, and the highest 50 ms sample), where that memory was at the highest sample
 * and which mart statements were running then.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Settings } from '../src/config/settings.js';
import { initWarehouse } from '../src/runner/init.js';
import { monitorTasks } from '../src/pipeline/monitor/index.js';
import { monitorSteps } from '../src/pipeline/monitor/steps.js';
import { runCycle, runTasks, type RunSummary } from '../src/runner/run-cycle.js';
import { runningAt, sampleMemory, statementRecorder } from './probes.js';
import type { MemoryAtPeak, StatementTiming, TaskTiming } from './results.js';

export interface CycleRequest {
  readonly settings: Settings;
  /** The cycle's clock, epoch seconds. */
  readonly now: number;
  /** W3: `init` first, timed as a task of its own. */
  readonly init: boolean;
  /** W4: the daily monitor (every step) instead of a cycle. */
  readonly monitor?: boolean;
}

export interface CycleReply {
  readonly init: TaskTiming | null;
  readonly summary: RunSummary;
  readonly statements: StatementTiming[];
  /** Wall seconds from `init` (or the cycle) to the cycle's end, close included. */
  readonly seconds: number;
  readonly startRssMb: number;
  readonly peakRssMb: number;
  readonly memoryAtPeak: MemoryAtPeak;
}

type Message = { ok: true; reply: CycleReply } | { ok: false; error: string };

const self = fileURLToPath(import.meta.url);
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CycleProcess {
  /** Runs one cycle in the child; rejects with the child's error. */
  run(request: CycleRequest): Promise<CycleReply>;
  /** Ends the child. */
  close(): Promise<void>;
}

/** Starts the child process for one engine's cycles. */
export const startCycleProcess = (): CycleProcess => {
  const child = fork(self, [], {
    execArgv: ['--import', tsxLoader],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let pending: { resolve: (r: CycleReply) => void; reject: (e: Error) => void } | null = null;
  let exited: Error | null = null;
  const settle = (outcome: { reply: CycleReply } | { error: Error }): void => {
    const p = pending;
    pending = null;
    if ('reply' in outcome) p?.resolve(outcome.reply);
    else p?.reject(outcome.error);
  };
  child.on('message', (m: Message) => settle(m.ok ? { reply: m.reply } : { error: new Error(m.error) }));
  // A send into a channel that just closed: the 'exit' that follows settles the cycle.
  child.on('error', (error) => settle({ error }));
  const ended = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = new Error(`bench cycle process exited (${signal ?? `code ${code}`})`);
      settle({ error: exited });
      resolve();
    }),
  );
  return {
    run: (request) =>
      new Promise((resolve, reject) => {
        if (exited) return reject(exited);
        if (pending) return reject(new Error('bench cycle process: one cycle at a time'));
        pending = { resolve, reject };
        child.send(request, (error) => error && settle({ error }));
      }),
    close: async () => {
      if (child.connected) child.disconnect();
      // A child kept alive by a handle a failed cycle left open must not hang the bench.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await ended;
      clearTimeout(timer);
    },
  };
};

/**
 * This process's peak resident set since the last call, in MB, or null where Linux's
 * `/proc/self/clear_refs` (reset) and `VmHWM` (read) are missing. `getrusage`'s maxRSS cannot be
 * reset, and a forked process starts with its parent's.
 */
const highWaterMark = (): number | null => {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    writeFileSync('/proc/self/clear_refs', '5');
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
};

const serve = (request: CycleRequest): Promise<CycleReply> => {
  const recorder = statementRecorder();
  highWaterMark();
  const started = performance.now();
  return sampleMemory(async () => {
    let init: TaskTiming | null = null;
    if (request.init) {
      const t = performance.now();
      await initWarehouse(request.settings);
      init = { task: 'init', state: 'success', seconds: (performance.now() - t) / 1000 };
    }
    const options = { settings: request.settings, log: recorder.log, now: request.now };
    const summary = request.monitor
      ? await runTasks('monitor', monitorTasks(monitorSteps), options)
      : await runCycle(options);
    return { init, summary };
  }).then(({ value, startRssMb, peakRssMb, atPeak, peakAt }) => ({
    init: value.init,
    // A failed task's cause stays here: it need not survive structured cloning.
    summary: { ...value.summary, tasks: value.summary.tasks.map(({ cause: _c, ...t }) => t) },
    statements: recorder.statements.map(({ endedAt: _e, ...s }) => s),
    seconds: (performance.now() - started) / 1000,
    startRssMb,
    // The kernel's mark catches what 50 ms samples miss.
    peakRssMb: Math.max(peakRssMb, highWaterMark() ?? 0),
    memoryAtPeak: { ...atPeak, during: runningAt(recorder.statements, peakAt) },
  }));
};

if (process.argv[1] === self && process.send) {
  // One cycle at a time; the parent's disconnect ends the process.
  process.on('message', (request: CycleRequest) => {
    serve(request).then(
      (reply) => process.send?.({ ok: true, reply } satisfies Message),
      (error: unknown) =>
        process.send?.({
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        } satisfies Message),
    );
  });
}
