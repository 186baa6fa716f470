/**
 * Node's error codes for a server that cannot be reached (refused, reset, unknown host, timed out,
 * no route): every engine reports them as "unreachable", not as a fault of the statement.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
