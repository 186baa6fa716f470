/**
 * Redshift's COPY of the parts `redshift-s3.ts` staged: the statement (IAM role or keys, never
 * printed), the load, and what `stl_load_errors` says when it fails.
 */
import type { Column, Row, Value } from '../../types.js';
import { qualifiedTable, quoteIdentifier } from '../postgres/postgres-dialect.js';
import type { LoadResult, ResultRow, WarehouseCapabilities } from '../warehouse.js';
import {
  redactKeys,
  s3Client,
  stageRows,
  trimSlashes,
  type S3Keys,
  type S3Staging,
  type StagingKey,
} from './redshift-s3.js';

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
    const safe = redactKeys(message, credentials);
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
