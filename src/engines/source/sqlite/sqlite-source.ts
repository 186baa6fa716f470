import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { ConfigError } from '../../../config/errors.js';
import type { Column } from '../../types.js';
import type { Source, SourceSnapshot } from '../source.js';
import { openSqliteHandle, SqliteSnapshot } from './sqlite-snapshot.js';
import { quoteSqlite } from './sqlite-sql.js';
import { sqliteLogicalType } from './sqlite-types.js';
import { sqliteInteger } from './sqlite-values.js';

interface TableInfoRow {
  readonly name: string;
  readonly type: string;
  readonly pk: number;
}

class SqliteSource implements Source {
  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    readonly displayUrl: string,
  ) {}

  async describeTable(table: string): Promise<Column[] | null> {
    const rows = this.run(`describing ${table}`, () =>
      this.db.prepare('select name, type, pk from pragma_table_info(?) order by cid').all(table),
    ) as TableInfoRow[];
    if (rows.length === 0) return null;
    return rows.map((row) => ({
      name: row.name.toLowerCase(),
      sourceName: row.name,
      type: sqliteLogicalType({ declaredType: row.type, pk: row.pk }),
    }));
  }

  async max(table: string, column: string): Promise<bigint | null> {
    const value = this.run(`reading max(${column}) of ${table}`, () =>
      this.db
        .prepare(`select max(${quoteSqlite(column)}) from ${quoteSqlite(table)}`)
        .pluck()
        .safeIntegers(true)
        .get(),
    );
    const max = sqliteInteger(value);
    if (max !== undefined) return max;
    throw new Error(
      `reading max(${column}) of ${table} from source ${this.displayUrl} failed: the greatest value, ${JSON.stringify(String(value)).slice(0, 40)}, is not an integer`,
    );
  }

  /** The file has no clock of its own: the host's, as SQLite reads it. */
  async clock(): Promise<number> {
    return Number(
      this.run('reading the clock', () => this.db.prepare("select unixepoch('now')").pluck().get()),
    );
  }

  async snapshot(): Promise<SourceSnapshot> {
    return SqliteSnapshot.open(this.path, this.displayUrl);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${what} from source ${this.displayUrl} failed: ${reason}`, { cause: error });
    }
  }
}

/**
 * Opens a SQLite source file (`sqlite:<path>`, the demo and test source). Never writes to it and
 * never creates it: a missing file, or one that is not a SQLite database, throws a `ConfigError`.
 */
export const openSqliteSource = async (path: string): Promise<Source> => {
  const displayUrl = `sqlite:${path}`;
  if (!existsSync(path)) throw new ConfigError(`source ${displayUrl} does not exist (check the path)`);
  let db: Database.Database | undefined;
  try {
    db = openSqliteHandle(path);
    db.prepare('select count(*) from sqlite_master').pluck().get();
  } catch (cause) {
    db?.close();
    const reason = (cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, ' ');
    throw new ConfigError(`source ${displayUrl} cannot be opened: ${reason}`, { cause });
  }
  return new SqliteSource(db, path, displayUrl);
};
