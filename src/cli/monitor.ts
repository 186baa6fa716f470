import { ConfigError, ExitCode } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { epochText } from '../config/time.js';
import { monitorTasks } from '../pipeline/monitor/index.js';
import { groupSteps, type StepReport } from '../pipeline/monitor/report.js';
import type { ReconcileDay } from '../pipeline/monitor/reconcile-sql.js';
import { monitorSteps, needsSource, type MonitorStep } from '../pipeline/monitor/steps.js';
import type { Logger } from '../runner/logger.js';
import { runTasks, type RunSummary, type RunTrigger } from '../runner/run-cycle.js';

export interface MonitorFlags {
  readonly json?: boolean;
  readonly only?: string;
  readonly failOnFindings?: boolean;
}

/** `--only reconcile,dq`: the steps named, or a one-line error naming the one that is not a step. */
export const parseSteps = (only: string | undefined): MonitorStep[] => {
  if (only === undefined) return [...monitorSteps];
  const names = only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((n) => !(monitorSteps as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0)
    throw new ConfigError(
      `--only "${bad ?? only}" is not a monitor step: use one or more of ${monitorSteps.join(', ')}`,
    );
  return names as MonitorStep[];
};

/** The run's steps as the screen and `--json` show them. */
export const stepReports = (summary: RunSummary): StepReport[] => groupSteps(summary.tasks);

const day = (epoch: number): string => epochText(epoch).slice(0, 10);

/** The monitor's one screen: a line per step, then the days the reconcile found different. */
export const formatMonitor = (summary: RunSummary): string => {
  const steps = stepReports(summary);
  const lines = [`monitor run ${summary.runId} ${summary.state} in ${summary.seconds.toFixed(2)} s`];
  lines.push(
    `  ${'step'.padEnd(12)} ${'state'.padEnd(16)} ${'seconds'.padStart(8)} ${'findings'.padStart(9)}  result`,
  );
  for (const s of steps)
    lines.push(
      `  ${s.step.padEnd(12)} ${s.state.padEnd(16)} ${s.seconds.toFixed(2).padStart(8)} ${String(s.findings).padStart(9)}  ${s.note}`,
    );
  const days = (steps.find((s) => s.step === 'reconcile')?.details.days ?? []) as ReconcileDay[];
  const differing = days.filter((d) => d.differs);
  if (differing.length > 0) {
    lines.push(
      '',
      `  reconcile: ${'table'.padEnd(20)} ${'day'.padEnd(10)} ${'source'.padStart(9)} ${'warehouse'.padStart(9)} ${'healed'.padStart(7)}`,
    );
    for (const d of differing)
      lines.push(
        `             ${d.table.padEnd(20)} ${day(d.day)} ${String(d.source + d.sourceNullKeys).padStart(9)} ${String(d.warehouse + d.warehouseNullKeys).padStart(9)} ${String(d.healed ?? '-').padStart(7)}${d.stillDiffers ? '  still differs' : ''}`,
      );
  }
  for (const extra of steps.flatMap((s) =>
    Array.isArray(s.details.lines) ? (s.details.lines as string[]) : [],
  ))
    lines.push(`  ${extra}`);
  return lines.join('\n');
};

export interface MonitorResult {
  readonly summary: RunSummary;
  readonly text: string;
  /** 0, or 1 when a step could not run or (`--fail-on-findings`) found something. */
  readonly exitCode: number;
  /** The one line for stderr when the exit code is not 0. */
  readonly error?: string;
}

/** `order-tracking monitor` (SPEC §6): the daily run under the lease, recorded in the run ledger. */
export const monitorCommand = async (
  settings: Settings,
  flags: MonitorFlags,
  options: {
    readonly log: Logger;
    readonly now?: number;
    readonly signal?: AbortSignal;
    readonly trigger?: RunTrigger;
  },
): Promise<MonitorResult> => {
  const steps = parseSteps(flags.only);
  const summary = await runTasks('monitor', monitorTasks(steps), {
    settings,
    log: options.log,
    ...(options.trigger ? { trigger: options.trigger } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    returnFailed: true,
    needsSource: steps.some(needsSource),
  });
  const reports = stepReports(summary);
  const text = flags.json
    ? JSON.stringify({
        runId: summary.runId,
        state: summary.state,
        seconds: summary.seconds,
        steps: reports,
        tasks: summary.tasks.map(({ cause: _c, ...t }) => t),
      })
    : formatMonitor(summary);
  const failedSteps = reports.filter((r) => r.state !== 'success').map((r) => r.step);
  const findings = reports.reduce((n, r) => n + r.findings, 0);
  if (failedSteps.length > 0)
    return {
      summary,
      text,
      exitCode: summary.state === 'timed_out' ? ExitCode.timedOut : ExitCode.failure,
      error: `monitor run ${summary.runId}: ${failedSteps.join(', ')} could not run: ${summary.error ?? ''}`,
    };
  if (flags.failOnFindings && findings > 0)
    return {
      summary,
      text,
      exitCode: 1,
      error: `monitor run ${summary.runId} found ${findings} findings (--fail-on-findings)`,
    };
  return { summary, text, exitCode: 0 };
};
