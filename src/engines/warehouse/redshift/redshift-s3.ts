import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object as S3Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Column, QuarantinedValue, Row, Value } from '../../types.js';
import { UNREACHABLE_CODES } from '../../unreachable.js';
import { qualifiedTable, quoteIdentifier } from '../postgres/postgres-dialect.js';
import type { LoadResult, ResultRow, WarehouseCapabilities } from '../warehouse.js';
import { CsvEncoder } from './redshift-csv.js';

/** Where Redshift loads are staged as gzip CSV parts before COPY reads them. */
export interface S3Staging {
  readonly bucket: string;
  /** Key prefix of every staged part (no leading or trailing `/` needed). */
  readonly prefix: string;
  readonly region: string;
  /** COPY authenticates with `IAM_ROLE '<arn>'`; without it, with the keys S3 is written with. */
  readonly iamRole?: string;
  /** An S3-compatible endpoint (tests: a local s3rver); path-style addressing then. */
  readonly endpoint?: string;
  /** Keys for S3 (and COPY, without `iamRole`); by default the standard AWS credential chain. */
  readonly credentials?: S3Keys;
}

export interface S3Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Which load a staged table belongs to: its parts go under `<prefix>/run-<runId>/batch-<batchId>/<table>/`. */
export interface StagingKey {
  readonly runId: number;
  readonly batchId: number;
  readonly table: string;
}

/** Uncompressed CSV per part by default: COPY reads parts in parallel, one per slice. */
export const DEFAULT_PART_BYTES = 64 * 1024 * 1024;
/** Rows encoded at a time: a part ends at the first chunk boundary past `partBytes`. */
const CHUNK_ROWS = 256;

const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/g, '');

/** `<prefix>/run-<runId>/batch-<batchId>/<table>`: where one load's parts go (no trailing `/`). */
export const stagingPrefix = (staging: S3Staging, key: StagingKey): string =>
  [trimSlashes(staging.prefix), `run-${key.runId}`, `batch-${key.batchId}`, key.table]
    .filter((p) => p !== '')
    .join('/');

const partKey = (prefix: string, part: number): string =>
  `${prefix}/part-${String(part).padStart(5, '0')}.csv.gz`;

/** A staged part's key, as `deleteStagedBefore` recognizes it (nothing else under the prefix is touched). */
const stagedPart = /(^|\/)run-\d+\/batch-\d+\/[^/]+\/part-\d+\.csv\.gz$/;

/**
 * The SDK warns on stderr under Node 20 that its releases after January 2027 will need Node 22; the
 * lock file pins this one, and an operator reads a warning on every run as a fault. A user who
 * set the variable keeps their choice.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const s3Client = (staging: S3Staging): S3Client =>
  new S3Client({
    region: staging.region,
    ...(staging.endpoint
      ? {
          endpoint: staging.endpoint,
          forcePathStyle: true,
          // S3-compatible servers predate the SDK's default CRC checksums (aws-chunked bodies).
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
    ...(staging.credentials ? { credentials: staging.credentials } : {}),
  });

/** `text` with the secrets of `keys` replaced by `***`. */
const redact = (text: string, keys: S3Keys | undefined): string => {
  let out = text;
  for (const secret of [keys?.secretAccessKey, keys?.sessionToken])
    if (secret) out = out.split(secret).join('***');
  return out;
};

const errorCode = (error: unknown): string | undefined => {
  const e = error as { code?: unknown; errors?: unknown[]; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string') return e.code;
  return errorCode(e.errors?.[0]) ?? (e.cause ? errorCode(e.cause) : undefined);
};

/**
 * One line naming the bucket (and endpoint) and why S3 refused, never a secret: wrong keys,
 * a missing bucket, missing permissions, an endpoint that does not answer.
 */
export const s3Failure = (staging: S3Staging, action: string, error: unknown): Error => {
  const name = error instanceof Error ? error.name : '';
  const code = errorCode(error);
  const where = `s3://${staging.bucket}/${trimSlashes(staging.prefix)}${staging.endpoint ? ` at ${staging.endpoint}` : ''}`;
  let reason: string;
  if (name === 'InvalidAccessKeyId')
    reason = 'S3 does not know the access key id (InvalidAccessKeyId); check the S3 credentials';
  else if (name === 'SignatureDoesNotMatch')
    reason =
      'the secret access key does not match the access key id (SignatureDoesNotMatch); check the S3 credentials';
  else if (name === 'NoSuchBucket')
    reason = `the bucket ${staging.bucket} does not exist (NoSuchBucket); create it or fix the bucket setting`;
  else if (name === 'AccessDenied' || name === 'Forbidden')
    reason =
      'access denied; the credentials need s3:PutObject, s3:ListBucket and s3:DeleteObject on the staging prefix';
  else if (code && UNREACHABLE_CODES.has(code))
    reason = `cannot reach ${staging.endpoint ?? `S3 in ${staging.region}`} (${code}); check the endpoint and the network`;
  else {
    const message = error instanceof Error ? error.message : String(error);
    reason = `${name || 'error'}: ${message.split('\n')[0] ?? ''}`;
  }
  const line = redact(`cannot ${action} ${where}: ${reason}`, staging.credentials);
  const leaks = error instanceof Error && redact(error.message, staging.credentials) !== error.message;
  return new Error(line, leaks ? undefined : { cause: error });
};

/**
 * One gzip part streamed into S3 with a multipart upload: memory stays bounded by lib-storage's
 * queue of 5 MiB parts, whatever the part's size.
 */
class PartUpload {
  bytes = 0;
  private readonly gzip: Gzip = createGzip();
  private readonly upload: Upload;
  private readonly done: Promise<void>;
  private failure: unknown = null;

  constructor(client: S3Client, bucket: string, key: string) {
    this.gzip.on('error', (error) => (this.failure ??= error));
    this.upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: this.gzip, ContentType: 'text/csv' },
      queueSize: 2,
      leavePartsOnError: false,
    });
    this.done = this.upload.done().then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= error;
        this.gzip.destroy();
        throw error;
      },
    );
    // Observed by `write` and `finish`; this only keeps an early failure from going unhandled.
    this.done.catch(() => undefined);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.bytes += chunk.length;
    if (!this.gzip.write(chunk)) {
      const stop = new AbortController();
      try {
        // An upload that failed stops reading: its rejection ends the wait for a drain.
        await Promise.race([once(this.gzip, 'drain', { signal: stop.signal }), this.done]);
      } catch (error) {
        throw this.failure ?? error;
      } finally {
        stop.abort();
      }
    }
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<void> {
    this.gzip.end();
    await this.done;
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.upload.abort().catch(() => undefined);
    await this.done.catch(() => undefined);
  }
}

/** What `stageRows` wrote. */
export interface StagedRows {
  /** The key prefix of the parts (no trailing `/`): `copyStatement` loads everything under it. */
  readonly prefix: string;
  readonly parts: number;
  readonly rows: number;
  readonly quarantined: readonly QuarantinedValue[];
}

/**
 * Writes rows as gzip CSV parts `<prefix>/run-<runId>/batch-<batchId>/<table>/part-00000.csv.gz`, …
 * (`CsvEncoder`: values checked as in every loader, one the column cannot hold written as NULL and
 * reported). A part is closed once it holds `partBytes` of uncompressed CSV (default 64 MiB) and
 * the next one begun; each is streamed through gzip into a multipart upload, so memory stays
 * bounded. Parts an earlier attempt left under the same prefix are deleted first: COPY loads every
 * object under it. No rows, no parts.
 */
export const stageRows = async (
  staging: S3Staging,
  key: StagingKey,
  capabilities: WarehouseCapabilities,
  columns: readonly Column[],
  rows: AsyncIterable<readonly Row[]>,
  options: { readonly partBytes?: number } = {},
): Promise<StagedRows> => {
  const partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
  const prefix = stagingPrefix(staging, key);
  const client = s3Client(staging);
  const encoder = new CsvEncoder(key.table, columns, capabilities);
  let part: PartUpload | null = null;
  let parts = 0;
  try {
    await deleteUnder(client, staging, `${prefix}/`, () => true);
    for await (const batch of rows) {
      for (let start = 0; start < batch.length; start += CHUNK_ROWS) {
        const chunk = encoder.encode(batch, start, Math.min(batch.length, start + CHUNK_ROWS));
        part ??= new PartUpload(client, staging.bucket, partKey(prefix, parts++));
        await part.write(chunk).catch((error: unknown) => {
          throw s3Failure(staging, 'upload a part to', error);
        });
        if (part.bytes >= partBytes) {
          const full: PartUpload = part;
          part = null;
          await full.finish().catch((error: unknown) => {
            throw s3Failure(staging, 'upload a part to', error);
          });
        }
      }
    }
    if (part) {
      const last: PartUpload = part;
      part = null;
      await last.finish().catch((error: unknown) => {
        throw s3Failure(staging, 'upload a part to', error);
      });
    }
    return { prefix, parts, rows: encoder.rows, quarantined: encoder.quarantined };
  } catch (error) {
    await part?.abort();
    throw error;
  } finally {
    client.destroy();
  }
};

/** A COPY literal; the values here (bucket, prefix, ARN, keys) hold no backslash, whose meaning differs by server. */
const copyLiteral = (value: string, what: string): string => {
  if (value.includes('\\')) throw new Error(`the S3 staging ${what} must not contain a backslash`);
  return `'${value.replaceAll("'", "''")}'`;
};

/**
 * The COPY of every part under `prefix` into `schema.table`, authenticated by `staging.iamRole`,
 * else by `credentials`. The options read `CsvEncoder`'s CSV back exactly:
 *
 * - `format as csv`: quoted fields keep delimiters, quotes (doubled) and line breaks as data
 *   (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-format.html#copy-csv);
 * - `gzip`: the parts are gzip files
 *   (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-file-compression.html);
 * - `null as '\\N'`: an unquoted `\N` is NULL, while `""` stays an empty string (no `emptyasnull`);
 *   written `'\\N'` because Redshift reads a backslash in a literal as an escape, as its
 *   `null as '\0'` and `delimiter '\t'` examples show
 *   (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html#copy-null-as);
 * - `timeformat 'auto'`, `dateformat 'auto'`: ISO 8601 with `T`, fractions and zones as well as
 *   `YYYY-MM-DD HH:MI:SS` (https://docs.aws.amazon.com/redshift/latest/dg/automatic-recognition.html);
 * - no `acceptinvchars`: the parts are valid UTF-8 (bytes the source could not decode arrive as
 *   U+FFFD, reported), and an invalid byte should fail the load, not be replaced silently
 *   (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html#acceptinvchars);
 * - `region`: the bucket's, which may differ from the cluster's
 *   (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html);
 * - `compupdate off statupdate off`: the tables' encodings are set, and the run analyzes on its
 *   own schedule (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html).
 *
 * It holds the keys when there is no IAM role: never print it, nor put it in an error; show
 * `copyStatementForDisplay`.
 */
export const copyStatement = (
  schema: string,
  table: string,
  columns: readonly Column[],
  staging: S3Staging,
  prefix: string,
  credentials?: S3Keys,
): string => {
  // https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-authorization.html
  let authorization: string;
  if (staging.iamRole) authorization = `iam_role ${copyLiteral(staging.iamRole, 'IAM role')}`;
  else if (credentials)
    authorization =
      `access_key_id ${copyLiteral(credentials.accessKeyId, 'access key id')} secret_access_key ${copyLiteral(credentials.secretAccessKey, 'secret access key')}` +
      (credentials.sessionToken
        ? ` session_token ${copyLiteral(credentials.sessionToken, 'session token')}`
        : '');
  else
    throw new Error(
      `cannot COPY into ${schema}.${table}: Redshift needs an IAM role or keys to read s3://${staging.bucket}; set the staging IAM role, or give keys`,
    );
  const from = copyLiteral(`s3://${staging.bucket}/${trimSlashes(prefix)}/`, 'bucket and prefix');
  return `copy ${qualifiedTable(schema, table)} (${columns.map((c) => quoteIdentifier(c.name)).join(', ')})
  from ${from}
  ${authorization}
  format as csv gzip null as '\\\\N' timeformat 'auto' dateformat 'auto' region ${copyLiteral(staging.region, 'region')}
  compupdate off statupdate off`;
};

/** `copyStatement` with the keys shown as `***`: the only form of it to print or log. */
export const copyStatementForDisplay = (
  schema: string,
  table: string,
  columns: readonly Column[],
  staging: S3Staging,
  prefix: string,
  credentials?: S3Keys,
): string =>
  copyStatement(
    schema,
    table,
    columns,
    staging,
    prefix,
    credentials && {
      accessKeyId: '***',
      secretAccessKey: '***',
      ...(credentials.sessionToken ? { sessionToken: '***' } : {}),
    },
  );

/** One line of `stl_load_errors`, as `loadErrors` reads it. */
export interface LoadErrorRow {
  readonly filename: string;
  readonly line: number;
  readonly column: string;
  readonly type: string;
  readonly rawValue: string;
  readonly code: number;
  readonly reason: string;
}

/**
 * A COPY that failed, naming the table and, once `withErrors` has the lines of `stl_load_errors`,
 * the first bad value: its column, line and Redshift's reason. `prefix` says which load to ask about.
 */
export class CopyLoadError extends Error {
  constructor(
    readonly table: string,
    readonly prefix: string,
    readonly serverMessage: string,
    readonly loadErrors: readonly LoadErrorRow[] = [],
    options?: ErrorOptions,
  ) {
    const first = loadErrors[0];
    super(
      first
        ? `COPY into ${table} failed: column ${first.column || '?'}, line ${first.line} of ${first.filename}: ${first.reason} (value ${JSON.stringify(first.rawValue.slice(0, 60))}, error ${first.code})${loadErrors.length > 1 ? `; ${loadErrors.length - 1} more in stl_load_errors` : ''}; fix the value or the column's type, then run again`
        : `COPY into ${table} failed: ${serverMessage}`,
      options,
    );
    this.name = 'CopyLoadError';
  }

  /** This error with the lines `loadErrors` read (after the caller's rollback). */
  withErrors(loadErrors: readonly LoadErrorRow[]): CopyLoadError {
    return new CopyLoadError(this.table, this.prefix, this.serverMessage, loadErrors, {
      cause: this.cause,
    });
  }
}

/**
 * The first 5 lines `stl_load_errors` holds for the load of `prefix`, newest load first. The failed
 * COPY aborted its transaction: call this on a fresh statement after the caller's rollback.
 */
export const loadErrors = async (
  connection: { query(sql: string, params?: readonly Value[]): Promise<ResultRow[]> },
  staging: S3Staging,
  prefix: string,
): Promise<LoadErrorRow[]> => {
  const rows = await connection.query(
    `select trim(filename) as filename, line_number, trim(colname) as colname, trim(type) as type,
       trim(raw_field_value) as raw_field_value, err_code, trim(err_reason) as err_reason
  from stl_load_errors
 where filename like $1
 order by starttime desc, line_number
 limit 5`,
    [`s3://${staging.bucket}/${trimSlashes(prefix)}/%`],
  );
  return rows.map((r) => ({
    filename: String(r.filename ?? ''),
    line: Number(r.line_number ?? 0),
    column: String(r.colname ?? ''),
    type: String(r.type ?? ''),
    rawValue: String(r.raw_field_value ?? ''),
    code: Number(r.err_code ?? 0),
    reason: String(r.err_reason ?? ''),
  }));
};

/**
 * `error` explained when it is a failed COPY (`CopyLoadError`): with the lines `stl_load_errors`
 * holds for its load. Call it after the rollback, on the same session; any other error, or one
 * whose lines cannot be read, is returned as it is.
 */
export const describeLoadFailure = async (
  connection: { query(sql: string, params?: readonly Value[]): Promise<ResultRow[]> },
  staging: S3Staging,
  error: unknown,
): Promise<unknown> => {
  if (!(error instanceof CopyLoadError)) return error;
  try {
    const lines = await loadErrors(connection, staging, error.prefix);
    return lines.length > 0 ? error.withErrors(lines) : error;
  } catch {
    return error;
  }
};

/**
 * Stages the rows (`stageRows`), then COPYs them into `schema.table`; returns the rows the COPY
 * loaded, the values quarantined on the way, and the prefix to `deleteStaged` once the run commits.
 * A failed COPY throws a `CopyLoadError` naming the table; its caller, after rolling back, reads
 * the lines with `describeLoadFailure` (or `loadErrors(connection, staging, error.prefix)` and
 * `error.withErrors(…)`).
 * Keys (without an IAM role) come from `staging.credentials` or the default AWS chain; they are
 * never in an error.
 */
export const copyIntoViaS3 = async (
  connection: {
    execute(sql: string): Promise<number>;
    query(sql: string, params?: readonly Value[]): Promise<ResultRow[]>;
  },
  staging: S3Staging,
  key: StagingKey,
  capabilities: WarehouseCapabilities,
  schema: string,
  table: string,
  columns: readonly Column[],
  rows: AsyncIterable<readonly Row[]>,
  options: { readonly partBytes?: number } = {},
): Promise<LoadResult & { readonly prefix: string }> => {
  const staged = await stageRows(staging, key, capabilities, columns, rows, options);
  if (staged.parts === 0) return { rows: 0, quarantined: staged.quarantined, prefix: staged.prefix };
  const credentials = staging.iamRole ? undefined : await copyCredentials(staging);
  try {
    const loaded = await connection.execute(
      copyStatement(schema, table, columns, staging, staged.prefix, credentials),
    );
    return { rows: loaded, quarantined: staged.quarantined, prefix: staged.prefix };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const safe = redact(message, credentials);
    throw new CopyLoadError(
      `${schema}.${table}`,
      staged.prefix,
      safe.split('\n')[0] ?? '',
      [],
      safe === message ? { cause: error } : undefined,
    );
  }
};

/** The keys COPY reads S3 with when there is no IAM role: the configured ones, or the default chain's. */
const copyCredentials = async (staging: S3Staging): Promise<S3Keys> => {
  if (staging.credentials) return staging.credentials;
  const client = s3Client(staging);
  try {
    const resolved = await client.config.credentials();
    return {
      accessKeyId: resolved.accessKeyId,
      secretAccessKey: resolved.secretAccessKey,
      ...(resolved.sessionToken ? { sessionToken: resolved.sessionToken } : {}),
    };
  } catch (error) {
    throw new Error(
      `cannot COPY from s3://${staging.bucket}: no IAM role is set and no AWS keys were found (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); set the staging IAM role or keys`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
};

/** Deletes the objects under `prefix` that `selected` picks; returns how many. */
const deleteUnder = async (
  client: S3Client,
  staging: S3Staging,
  prefix: string,
  selected: (object: S3Object) => boolean,
): Promise<number> => {
  let deleted = 0;
  let token: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: staging.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? [])
        .filter((o) => o.Key !== undefined && selected(o))
        .map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) {
        const result = await client.send(
          new DeleteObjectsCommand({ Bucket: staging.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0)
          throw new Error(
            `cannot delete ${failed.length} staged objects in s3://${staging.bucket}/${prefix}, e.g. ${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message}`,
          );
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('cannot delete')) throw error;
    throw s3Failure(staging, 'clean up', error);
  }
  return deleted;
};

/** Deletes every object under a load's `prefix` (after the run commits); returns how many. */
export const deleteStaged = async (staging: S3Staging, prefix: string): Promise<number> => {
  const client = s3Client(staging);
  try {
    return await deleteUnder(client, staging, `${trimSlashes(prefix)}/`, () => true);
  } finally {
    client.destroy();
  }
};

/**
 * Deletes the staged parts under the staging prefix last modified before `before` (parts kept
 * after failed runs, for the monitor's cleanup); returns how many. Only keys shaped like staged
 * parts are touched.
 */
export const deleteStagedBefore = async (staging: S3Staging, before: Date): Promise<number> => {
  const client = s3Client(staging);
  const root = trimSlashes(staging.prefix);
  try {
    return await deleteUnder(
      client,
      staging,
      root === '' ? '' : `${root}/`,
      (o) =>
        stagedPart.test(o.Key ?? '') &&
        o.LastModified !== undefined &&
        o.LastModified.getTime() < before.getTime(),
    );
  } finally {
    client.destroy();
  }
};
