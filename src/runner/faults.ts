/**
 * Crash injection for the crash-safety tests: `ORDER_TRACKING_FAULT=after:extract` kills the
 * process with SIGKILL at that point (also `start:<task>`, `during:extract`, `during:mart_uti`…),
 * exactly as an OOM kill or a lost host would;
 * `ORDER_TRACKING_FAULT=term:during:extract` sends it SIGTERM there instead, as a scheduler
 * stopping the run would, and `int:during:extract` SIGINT, as Ctrl-C in a terminal would. Never
 * set in production; a no-op unless the variable names this point.
 */
export const faultPoint = (point: string): void => {
  const fault = process.env.ORDER_TRACKING_FAULT;
  if (fault === point) process.kill(process.pid, 'SIGKILL');
  else if (fault === `term:${point}`) process.kill(process.pid, 'SIGTERM');
  else if (fault === `int:${point}`) process.kill(process.pid, 'SIGINT');
};

/**
 * `ORDER_TRACKING_FAULT=lose-row:extract`: the first batch of each table loses its last row on its
 * way to raw, as a driver or a load that silently dropped one would. Validate has to catch it.
 */
export const losesRow = (point: string): boolean => process.env.ORDER_TRACKING_FAULT === `lose-row:${point}`;
