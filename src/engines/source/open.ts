import type { SourceUrl } from '../../config/urls.js';
import { openMysqlSource } from './mysql/mysql-source.js';
import type { Source, SourceOptions } from './source.js';
import { openSqliteSource } from './sqlite/sqlite-source.js';

/**
 * Opens the source a parsed `--source` URL names (SPEC §1) and checks it answers; a source that
 * cannot be opened throws a one-line `ConfigError` with the URL redacted. `options` matter to a
 * server source only: a SQLite read cannot stall on a network.
 */
export const openSource = (url: SourceUrl, options: SourceOptions = {}): Promise<Source> => {
  switch (url.kind) {
    case 'mysql':
      return openMysqlSource(url.url, options);
    case 'sqlite':
      return openSqliteSource(url.path);
  }
};
