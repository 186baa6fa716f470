import { monitorSteps } from './steps.js';

/** The tasks of each monitor step (SPEC §6), by name: the reconcile runs the cycle's own after it. */
export const stepTaskNames: Readonly<Record<(typeof monitorSteps)[number], readonly string[]>> = {
  reconcile: [
    'check_drift',
    'reconcile',
    'validate',
    'mart_uti',
    'mart_ecs',
    'mart_uts',
    'tests',
    'reconciled',
  ],
  dq: ['dq'],
  exceptions: ['exceptions'],
  cleanup: ['cleanup'],
  maintenance: ['maintenance'],
};

/** The step a monitor task belongs to, or `undefined`. */
export const stepOf = (task: string): (typeof monitorSteps)[number] | undefined =>
  monitorSteps.find((step) => stepTaskNames[step].includes(task));

/** A task as the run ledger's summary records it. */
export interface StepTask {
  readonly task: string;
  readonly state: string;
  readonly seconds: number;
  readonly findings?: number;
  readonly note?: string | null;
  readonly error?: string | null;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One step of a monitor run: its tasks summed up. */
export interface StepReport {
  /** `reconcile`, `dq`, `exceptions`, `cleanup`, `maintenance` (a task no step owns stands as its own). */
  readonly step: string;
  /** The worst of its tasks' states: `failed`, `upstream_failed`, `cancelled`, else `success`. */
  readonly state: string;
  readonly seconds: number;
  /** What its tasks found (days that differ, failing orders): data, not failures. */
  readonly findings: number;
  /** What it did, or the failed task's error. */
  readonly note: string;
  /** Its tasks' details, merged. */
  readonly details: Record<string, unknown>;
}

const worstFirst = ['failed', 'upstream_failed', 'cancelled', 'unknown'];

const firstLine = (text: string | null | undefined): string | undefined => text?.split('\n')[0];

/** A monitor run's tasks grouped into its steps, in the order the steps run. */
export const groupSteps = (tasks: readonly StepTask[]): StepReport[] => {
  const byStep = new Map<string, StepTask[]>();
  for (const t of tasks) {
    const step = stepOf(t.task) ?? t.task;
    byStep.set(step, [...(byStep.get(step) ?? []), t]);
  }
  const order = (step: string): number => {
    const i = (monitorSteps as readonly string[]).indexOf(step);
    return i < 0 ? monitorSteps.length : i;
  };
  return [...byStep.entries()]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([step, group]) => {
      const failed = group.find((t) => t.state === 'failed');
      // The step's own task and the reconcile's closing one say what the step did.
      const notes = group
        .filter((t) => t.task === step || t.task === 'reconciled')
        .map((t) => t.note)
        .filter(Boolean);
      return {
        step,
        state: worstFirst.find((s) => group.some((t) => t.state === s)) ?? 'success',
        seconds: group.reduce((n, t) => n + t.seconds, 0),
        findings: group.reduce((n, t) => n + (t.findings ?? 0), 0),
        note: failed
          ? `${failed.task}: ${firstLine(failed.error) ?? 'failed'}`
          : notes.join('; ') || (group[0]?.note ?? ''),
        details: Object.assign({}, ...group.map((t) => t.details ?? {})) as Record<string, unknown>,
      };
    });
};
