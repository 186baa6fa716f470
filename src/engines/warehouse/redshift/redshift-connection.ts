import type { RedshiftS3Settings } from '../../../config/settings.js';
import type { Column, Row, Value } from '../../types.js';
import type { PostgresConnection } from '../postgres/postgres-connection.js';
import type { LoadResult, LoadTag, ResultRow, WarehouseConnection } from '../warehouse.js';
import { redshiftCapabilities } from './redshift-dialect.js';
import { insertRows } from './redshift-insert.js';
import { copyIntoViaS3, describeLoadFailure } from './redshift-copy.js';
import { deleteStaged } from './redshift-s3.js';

/** How a Redshift warehouse loads: S3 staging and COPY, or multi-row INSERTs (SPEC §1). */
export interface RedshiftLoading {
  readonly s3: RedshiftS3Settings | null;
  readonly insertMaxBytes: number;
}

/**
 * A Redshift session: PostgreSQL's wire protocol and session handling (`PostgresConnection`), with
 * Redshift's loads, and without savepoints (Redshift has none): a transaction inside a transaction
 * runs as part of it, and a failure in it fails the whole, as any failed statement does on Redshift.
 *
 * S3 parts a load staged are deleted once its transaction commits; after a failure they stay for
 * diagnosis (the monitor's cleanup deletes them later), and a failed COPY's error names the first
 * rows `stl_load_errors` holds for it.
 */
export class RedshiftConnection implements WarehouseConnection {
  private depth = 0;
  /** Prefixes staged in the open transaction: deleted after its commit. */
  private staged: string[] = [];

  constructor(
    private readonly inner: PostgresConnection,
    private readonly loading: RedshiftLoading,
  ) {}

  query<T extends ResultRow = ResultRow>(sql: string, params?: readonly Value[]): Promise<T[]> {
    return this.inner.query<T>(sql, params);
  }

  execute(sql: string, params?: readonly Value[]): Promise<number> {
    return this.inner.execute(sql, params);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return fn();
    this.depth = 1;
    let result: T;
    try {
      result = await this.inner.transaction(fn);
    } catch (error) {
      this.staged = [];
      throw await this.explained(error);
    } finally {
      this.depth = 0;
    }
    await this.deleteStaged();
    return result;
  }

  async load(
    schema: string,
    table: string,
    columns: readonly Column[],
    rows: AsyncIterable<readonly Row[]>,
    tag?: LoadTag,
  ): Promise<LoadResult> {
    const { s3 } = this.loading;
    if (!s3)
      return insertRows(this, redshiftCapabilities, schema, table, columns, rows, {
        maxStatementBytes: this.loading.insertMaxBytes,
      });
    const result = await copyIntoViaS3(
      this,
      s3,
      { runId: tag?.runId ?? 0, batchId: tag?.batchId ?? 0, table },
      redshiftCapabilities,
      schema,
      table,
      columns,
      rows,
    );
    if (this.depth > 0) this.staged.push(result.prefix);
    else await deleteStaged(s3, result.prefix);
    return result;
  }

  cancel(): Promise<void> {
    return this.inner.cancel();
  }

  release(): Promise<void> {
    return this.inner.release();
  }

  private async deleteStaged(): Promise<void> {
    const { s3 } = this.loading;
    const prefixes = this.staged;
    this.staged = [];
    // The rows are committed: a part left behind costs storage only, and the monitor removes it.
    if (s3) for (const prefix of prefixes) await deleteStaged(s3, prefix).catch(() => 0);
  }

  /** A failed COPY's error, with what `stl_load_errors` says about it (read after the rollback). */
  private async explained(error: unknown): Promise<unknown> {
    const { s3 } = this.loading;
    return s3 ? describeLoadFailure(this, s3, error) : error;
  }
}
