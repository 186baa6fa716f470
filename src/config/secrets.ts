import { secretsOf } from './urls.js';

/** Shorter secrets are left alone: masking every "ab" would mangle ordinary output. */
export const minSecretLength = 3;

/** `text` with each of `secrets` (at least `minSecretLength` long) replaced by `***`, longest first. */
export const maskIn = (text: string, secrets: Iterable<string>): string =>
  [...new Set(secrets)]
    .filter((s) => s.length >= minSecretLength)
    .sort((a, b) => b.length - a.length)
    .reduce((out, secret) => out.replaceAll(secret, '***'), text);

const remembered = new Set<string>();

/**
 * Remembers the passwords of these URLs (as written, percent-decoded, as the drivers parse them) so
 * that `maskSecrets` hides them; `undefined`, `null` and URLs without a password add nothing.
 */
export const rememberSecrets = (...urls: readonly (string | null | undefined)[]): void => {
  for (const url of urls) if (url) for (const secret of secretsOf(url)) remembered.add(secret);
};

/** `text` with every remembered secret replaced by `***`. */
export const maskSecrets = (text: string): string => (remembered.size ? maskIn(text, remembered) : text);

type Write = typeof process.stdout.write;

const masked = (stream: NodeJS.WriteStream): Write => {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  return (chunk: unknown, ...rest: unknown[]): boolean => {
    if (!remembered.size) return original(chunk, ...rest);
    if (typeof chunk === 'string') return original(maskSecrets(chunk), ...rest);
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk).toString('utf8');
      const clean = maskSecrets(text);
      return original(clean === text ? chunk : clean, ...rest);
    }
    return original(chunk, ...rest);
  };
};

/**
 * The last line of defence (SPEC §1, no password printed): every write to stdout and stderr (the
 * error line, `--verbose` stacks, log lines, JSON) goes through `maskSecrets`. Installed once by
 * the CLI; a driver message or stack that echoes a password is masked wherever it is printed.
 */
export const guardOutput = (): void => {
  for (const stream of [process.stdout, process.stderr]) stream.write = masked(stream);
};

/**
 * Remembers secrets that are not URL passwords: the dashboard token, an alert webhook (its URL is
 * its credential: Slack's path is the key), so `maskSecrets` hides them too.
 */
export const rememberSecretValues = (...values: readonly (string | null | undefined)[]): void => {
  for (const value of values) {
    if (!value) continue;
    remembered.add(value);
    if (/^https?:\/\//.test(value)) {
      const path = new URL(value).pathname + new URL(value).search;
      if (path.length > 1) remembered.add(path);
    }
  }
};
