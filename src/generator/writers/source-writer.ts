import type { WriteChunk } from '../rows.js';

/** Where generated writes go: a source database (SQLite, MySQL) or a test double. */
export interface SourceWriter {
  /**
   * Creates the three source tables if they do not exist. Fails if any of them already holds
   * rows, because generated ids start at 1.
   */
  createTables(): Promise<void>;
  /** Applies one chunk in one transaction: inserts, and upserts of uni_tracking_info by id. */
  apply(chunk: WriteChunk): Promise<void>;
  /** Releases the connection; the writer cannot be used afterwards. */
  close(): Promise<void>;
}
