/** The daily monitor's steps (SPEC §6), in the order they run; `--only` picks among them. */
export const monitorSteps = ['reconcile', 'dq', 'exceptions', 'cleanup', 'maintenance'] as const;

export type MonitorStep = (typeof monitorSteps)[number];

/** Whether a step reads the source: without one configured, only the others can run. */
export const needsSource = (step: MonitorStep): boolean => step === 'reconcile' || step === 'exceptions';
