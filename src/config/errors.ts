/**
 * An error the user can act on: the CLI prints its message as one line and exits with `exitCode`.
 * Anything else is a bug and is printed with its stack under `--verbose`.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Exit codes, stable for orchestrators that drive `order-tracking task …`. */
export const ExitCode = {
  failure: 1,
  config: 2,
  /** Another run holds the pipeline's lease (SPEC §7). */
  busy: 75,
  /** The source changed shape in a way the pipeline cannot follow (SPEC §3 check_drift). */
  drift: 3,
  /** Landed rows did not match the source count (SPEC §3 validate). */
  validation: 4,
  /**
   * The run was stopped by SIGTERM or SIGINT: its current task was cancelled and rolled back, the
   * lease released (SPEC §7). 130 as a shell reports a run stopped by Ctrl-C.
   */
  interrupted: 130,
  /** As above, stopped by SIGTERM (a scheduler, Kubernetes): 128 + 15, as a shell reports it. */
  terminated: 143,
  /** A task, or the run, reached its limit and was cancelled (124, as `timeout(1)` exits). */
  timedOut: 124,
} as const;

export class ConfigError extends UserError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.config, options);
    this.name = 'ConfigError';
  }
}
