/**
 * Syntax-checks golden SQL with a Redshift-dialect parser, since no Redshift can run here.
 *
 * The parser is `@polyglot-sql/sdk` (Rust compiled to WebAssembly). What its check proves, and
 * what it does not, is pinned by test/unit/redshift-parse.test.ts: it catches malformed SQL and
 * malformed Redshift table options, but accepts PostgreSQL-only syntax (RETURNING, DISTINCT ON,
 * ON CONFLICT …) and takes VACUUM and LOCK as opaque commands.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Dialect, parse } from '@polyglot-sql/sdk';
import { z } from 'zod';

/** One statement of a golden file, without the comments the golden format adds. */
export interface GoldenStatement {
  /** The statement's text, comments removed (their lines kept blank), trimmed, without its `;`. */
  readonly sql: string;
  /** 1-based line of the file where the statement starts. */
  readonly line: number;
  /** The statement ends in `;` at the end of a line, as the golden format writes every one. */
  readonly terminated: boolean;
}

/**
 * Splits a golden `.sql` file into statements: a statement ends at a `;` that only whitespace or a
 * comment follows on its line, outside string literals, quoted identifiers, dollar quotes and
 * comments. `--` and `/* … *\/` comments are dropped; newlines stay, so a line inside a statement
 * maps to a line of the file. String literals follow standard SQL (`''` is a quote, a backslash is
 * a character), as the parser reads them; Redshift reads `\'` as an escaped quote, so a literal
 * ending in a backslash would split differently there.
 */
export const splitGoldenStatements = (text: string): GoldenStatement[] => {
  const statements: GoldenStatement[] = [];
  let current = '';
  let line = 1;
  let startLine = 1;
  let i = 0;
  const flush = (terminated: boolean) => {
    const leading = current.length - current.trimStart().length;
    const sql = current.trim();
    if (sql !== '') {
      const skippedLines = current.slice(0, leading).split('\n').length - 1;
      statements.push({ sql, line: startLine + skippedLines, terminated });
    }
    current = '';
    startLine = line;
  };
  /** Copies text up to and including `end` (or to the end of the file), counting lines. */
  const copyThrough = (end: string, from: number) => {
    const at = text.indexOf(end, from);
    const stop = at === -1 ? text.length : at + end.length;
    const part = text.slice(i, stop);
    current += part;
    line += part.split('\n').length - 1;
    i = stop;
  };
  /** The rest of the line after `from` holds only whitespace and, perhaps, a `--` comment. */
  const lineEndsAfter = (from: number) => /^[ \t\r]*(--[^\n]*)?(\n|$)/.test(text.slice(from, from + 10_000));
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      const newlines = text.slice(i, stop).split('\n').length - 1;
      current += newlines > 0 ? '\n'.repeat(newlines) : ' ';
      line += newlines;
      i = stop;
    } else if (c === "'") {
      // '' inside a literal closes and reopens it: the same text either way.
      copyThrough("'", i + 1);
    } else if (c === '"') {
      copyThrough('"', i + 1);
    } else if (c === '$' && !/[A-Za-z0-9_$]/.test(text[i - 1] ?? '')) {
      // A dollar quote: `$$` or `$tag$`; `$1` is a bind placeholder, `a$b` an identifier.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 100));
      if (tag) copyThrough(tag[0], i + tag[0].length);
      else {
        current += c;
        i += 1;
      }
    } else if (c === ';' && lineEndsAfter(i + 1)) {
      i += 1;
      flush(true);
    } else {
      current += c;
      if (c === '\n') line += 1;
      i += 1;
    }
  }
  flush(false);
  return statements;
};

/** The parser's verdict on one statement. */
export type ParseVerdict = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Parses one statement in polyglot's `redshift` dialect. Text that parses as more than one
 * statement fails too: the golden format puts each statement's `;` at the end of a line.
 */
export const parseRedshift = (sql: string): ParseVerdict => {
  const result = parse(sql, Dialect.Redshift);
  if (!result.success) return { ok: false, message: result.error };
  if (result.ast.length !== 1)
    return {
      ok: false,
      message: `parsed as ${result.ast.length} statements: end each statement with ';' at the end of its line`,
    };
  return { ok: true };
};

/** A statement the parser wrongly rejects, and the AWS documentation showing Redshift accepts it. */
export interface AllowEntry {
  /** A regular expression (no flags) matched against a statement's text, comments removed. */
  readonly pattern: string;
  readonly reason: string;
}

const awsDocUrl = /https:\/\/docs\.aws\.amazon\.com\/redshift\/\S+/;
const allowListSchema = z.array(
  z
    .object({
      pattern: z.string().refine(
        (p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      ),
      reason: z.string().regex(awsDocUrl, {
        message:
          'give the reason with the AWS Redshift doc URL (https://docs.aws.amazon.com/redshift/…) proving Redshift accepts it',
      }),
    })
    .strict(),
);

/** Reads and validates an allow-list file: `[{ "pattern": "<regex>", "reason": "<why, with doc URL>" }]`. */
export const readAllowList = async (path: string): Promise<AllowEntry[]> => {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${path} is not valid JSON: fix it, or restore it from git`, { cause });
  }
  const parsed = allowListSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `${path} does not hold [{ "pattern", "reason" }] entries: ${parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`,
    );
  return parsed.data;
};

/** Every `.sql` file under `dir`, recursively, sorted; none if `dir` does not exist. */
export const findSqlFiles = async (dir: string): Promise<string[]> => {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw cause;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
};

/** What checking a folder of golden files found. */
export interface GoldenCheck {
  /** The `.sql` files checked, relative to the folder. */
  readonly files: readonly string[];
  readonly statements: number;
  /** One line per statement the parser rejects and no allow-list entry excuses. */
  readonly failures: readonly string[];
  /** Allow-list entries that excused no rejected statement: remove them. */
  readonly stale: readonly AllowEntry[];
}

/**
 * Parses every statement of every `.sql` file under `dir` as Redshift SQL; a rejected statement
 * that matches an allow-list entry is excused.
 */
export const checkGoldenDir = async (dir: string, allowList: readonly AllowEntry[]): Promise<GoldenCheck> => {
  const paths = await findSqlFiles(dir);
  const patterns = allowList.map((entry) => ({ entry, regex: new RegExp(entry.pattern) }));
  const used = new Set<AllowEntry>();
  const failures: string[] = [];
  let statements = 0;
  for (const path of paths) {
    const file = relative(dir, path);
    for (const [index, statement] of splitGoldenStatements(await readFile(path, 'utf8')).entries()) {
      statements += 1;
      const where = `${file}:${statement.line} statement ${index + 1} "${statement.sql.split('\n')[0]}"`;
      if (!statement.terminated) {
        failures.push(`${where}: does not end in ';' at the end of a line (a truncated golden file?)`);
        continue;
      }
      const verdict = parseRedshift(statement.sql);
      if (verdict.ok) continue;
      const excuses = patterns.filter((p) => p.regex.test(statement.sql));
      if (excuses.length === 0) failures.push(`${where}: ${verdict.message}`);
      for (const p of excuses) used.add(p.entry);
    }
  }
  return {
    files: paths.map((p) => relative(dir, p)),
    statements,
    failures,
    stale: allowList.filter((entry) => !used.has(entry)),
  };
};
