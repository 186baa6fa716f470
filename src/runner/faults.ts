/**
 * Crash injection for the crash-safety tests: `ORDER_TRACKING_FAULT=after:extract` kills the
 * process with SIGKILL at that point, exactly as an OOM kill or a lost host would. Never set in
 * production; a no-op unless the variable names this point.
 */
export const faultPoint = (point: string): void => {
  if (process.env.ORDER_TRACKING_FAULT === point) process.kill(process.pid, 'SIGKILL');
};
