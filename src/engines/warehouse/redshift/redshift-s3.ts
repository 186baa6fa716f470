import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object as S3Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Column, QuarantinedValue, Row } from '../../types.js';
import { UNREACHABLE_CODES } from '../../unreachable.js';
import type { WarehouseCapabilities } from '../warehouse.js';
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

export const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/g, '');

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

export const s3Client = (staging: S3Staging): S3Client =>
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
export const redactKeys = (text: string, keys: S3Keys | undefined): string => {
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
  const line = redactKeys(`cannot ${action} ${where}: ${reason}`, staging.credentials);
  const leaks = error instanceof Error && redactKeys(error.message, staging.credentials) !== error.message;
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
  // S3's failures in one line; the rows' own (a source that broke) pass as they are.
  const uploading = (step: Promise<void>): Promise<void> =>
    step.catch((error: unknown) => {
      throw s3Failure(staging, 'upload a part to', error);
    });
  const close = async (): Promise<void> => {
    const full = part;
    part = null;
    if (full) await uploading(full.finish());
  };
  try {
    await deleteUnder(client, staging, `${prefix}/`, () => true);
    for await (const batch of rows) {
      for (let start = 0; start < batch.length; start += CHUNK_ROWS) {
        const chunk = encoder.encode(batch, start, Math.min(batch.length, start + CHUNK_ROWS));
        part ??= new PartUpload(client, staging.bucket, partKey(prefix, parts++));
        await uploading(part.write(chunk));
        if (part.bytes >= partBytes) await close();
      }
    }
    await close();
    return { prefix, parts, rows: encoder.rows, quarantined: encoder.quarantined };
  } catch (error) {
    await part?.abort();
    throw error;
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
  const cleaning = <T>(step: Promise<T>): Promise<T> =>
    step.catch((error: unknown) => {
      throw s3Failure(staging, 'clean up', error);
    });
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await cleaning(
      client.send(
        new ListObjectsV2Command({ Bucket: staging.bucket, Prefix: prefix, ContinuationToken: token }),
      ),
    );
    const keys = (page.Contents ?? [])
      .filter((o) => o.Key !== undefined && selected(o))
      .map((o) => ({ Key: o.Key! }));
    if (keys.length > 0) {
      const result = await cleaning(
        client.send(
          new DeleteObjectsCommand({ Bucket: staging.bucket, Delete: { Objects: keys, Quiet: true } }),
        ),
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
