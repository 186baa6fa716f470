/**
 * The measured cycles run in a process of their own per engine, the process `order-tracking serve`
 * would be: W3, W1 and W2 one after the other, so later cycles run warmed-up code, as a scheduler's
 * do. The peak RSS is then the pipeline's: the bench process also holds what the generator left
 * behind (after writing W2's 8.6 M-row backlog it started the cycle at 460-530 MB, 176 MB of it V8
 * heap), which the previous in-process measurement counted.
 *
 * The parent forks this file under tsx's loader and sends one request per cycle; the child runs
 * `init` (W3) and the cycle, and answers with the run summary, the statement timings and its
 * memory: its resident set's peak during the request (the kernel's high-water mark, what
 * `/usr/bin/time` reports for pgloader, when the request raised it; otherwise the highest 50 ms
 * sample) and where that memory was at the highest sample.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Settings } from '../src/config/settings.js';
import { initCommand } from '../src/cli/init.js';
import { runCycle, type RunSummary } from '../src/runner/run-cycle.js';
import { sampleMemory, statementRecorder } from './probes.js';
import type { MemoryAtPeak, StatementTiming, TaskTiming } from './results.js';

export interface CycleRequest {
  readonly settings: Settings;
  /** The cycle's clock, epoch seconds. */
  readonly now: number;
  /** W3: `init` first, timed as a task of its own. */
  readonly init: boolean;
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
  child.on('message', (m: Message) => {
    const p = pending;
    pending = null;
    if (m.ok) p?.resolve(m.reply);
    else p?.reject(new Error(m.error));
  });
  const ended = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = new Error(`bench cycle process exited (${signal ?? `code ${code}`})`);
      pending?.reject(exited);
      pending = null;
      resolve();
    }),
  );
  return {
    run: (request) =>
      new Promise((resolve, reject) => {
        if (exited) return reject(exited);
        if (pending) return reject(new Error('bench cycle process: one cycle at a time'));
        pending = { resolve, reject };
        child.send(request);
      }),
    close: async () => {
      if (!exited) child.disconnect();
      await ended;
    },
  };
};

const serve = (request: CycleRequest): Promise<CycleReply> => {
  const recorder = statementRecorder();
  const highWaterBefore = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  return sampleMemory(async () => {
    let init: TaskTiming | null = null;
    if (request.init) {
      const t = performance.now();
      await initCommand(request.settings);
      init = { task: 'init', state: 'success', seconds: (performance.now() - t) / 1000 };
    }
    const summary = await runCycle({ settings: request.settings, log: recorder.log, now: request.now });
    return { init, summary };
  }).then(({ value, startRssMb, peakRssMb, atPeak }) => {
    // maxRSS (kilobytes) is the process's high-water mark, which 50 ms samples can miss; it is
    // this cycle's peak only if this cycle raised it.
    const highWater = process.resourceUsage().maxRSS / 1024;
    return {
      ...value,
      statements: recorder.statements,
      seconds: (performance.now() - started) / 1000,
      startRssMb,
      peakRssMb: highWater > highWaterBefore ? highWater : peakRssMb,
      memoryAtPeak: atPeak,
    };
  });
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
