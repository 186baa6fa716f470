/**
 * The Redshift test double's SQL logic, pure: what PostgreSQL cannot parse is rewritten to its
 * PostgreSQL equivalent, what Redshift would refuse is refused (PostgreSQL would let it slide), and
 * an S3 COPY is parsed for the proxy to carry out. Everything is scanned outside string literals,
 * quoted identifiers and comments.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'punct' | 'space' | 'comment';

/** One lexical token; `text` is what is sent, and rewriting edits it in place. */
export interface Token {
  readonly kind: TokenKind;
  text: string;
  /** Lower-cased text of a word, the text otherwise. */
  readonly lower: string;
}

/** Redshift's statement limit, in bytes of SQL text (https://docs.aws.amazon.com/redshift/latest/dg/c_redshift-sql.html). */
export const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;

/** The schema `prepareRedshiftDouble` installs its function and override table in. */
export const DOUBLE_SCHEMA = 'ot_redshift_double';

const wordStart = /[A-Za-z_\u0080-\uffff]/;
const wordPart = /[A-Za-z0-9_$\u0080-\uffff]/;
const digit = /[0-9]/;

/** Splits SQL into tokens; unterminated strings, identifiers and comments run to the end. */
export const lex = (sql: string): Token[] => {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, text: string): void => {
    tokens.push({ kind, text, lower: kind === 'word' ? text.toLowerCase() : text });
  };
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i] as string)) i++;
      push('space', sql.slice(start, i));
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      push('comment', sql.slice(start, i));
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      while (i < n) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      push('comment', sql.slice(start, i));
    } else if (c === "'" || ((c === 'e' || c === 'E') && sql[i + 1] === "'")) {
      const backslashes = c !== "'";
      i += backslashes ? 2 : 1;
      while (i < n) {
        if (backslashes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") {
          i++;
          break;
        } else i++;
      }
      push('string', sql.slice(start, i));
    } else if (c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') {
          i++;
          break;
        } else i++;
      }
      push('quoted', sql.slice(start, i));
    } else if (c === '$' && digit.test(sql[i + 1] ?? '')) {
      i++;
      while (i < n && digit.test(sql[i] as string)) i++;
      push('param', sql.slice(start, i));
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = (/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? n : end + tag.length;
      push('string', sql.slice(start, i));
    } else if (wordStart.test(c)) {
      while (i < n && wordPart.test(sql[i] as string)) i++;
      push('word', sql.slice(start, i));
    } else if (digit.test(c) || (c === '.' && digit.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9.]/.test(sql[i] as string)) i++;
      if (/[eE]/.test(sql[i] ?? '') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && digit.test(sql[i] as string)) i++;
      }
      push('number', sql.slice(start, i));
    } else if (c === ':' && sql[i + 1] === ':') {
      i += 2;
      push('punct', '::');
    } else {
      i++;
      push('punct', c);
    }
  }
  return tokens;
};

const isSignificant = (t: Token): boolean => t.kind !== 'space' && t.kind !== 'comment';

/** The value of a single-quoted string token (`''` undoubled; E-strings keep their backslashes). */
export const stringValue = (t: Token): string =>
  t.text.startsWith('$')
    ? t.text.replace(/^\$[^$]*\$/, '').replace(/\$[^$]*\$$/, '')
    : t.text
        .replace(/^[eE]?'/, '')
        .replace(/'$/, '')
        .replace(/''/g, "'");

/**
 * A string literal's value as Redshift reads it: a backslash escapes the character after it
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html doubles backslashes), so
 * COPY's `null as '\\N'` means `\N`.
 */
export const redshiftStringValue = (t: Token): string =>
  t.text.startsWith('$')
    ? stringValue(t)
    : stringValue(t).replace(/\\(.)/gs, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', 0: '\0' })[c] ?? c);

/** A SQL string literal. */
export const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** A quoted identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The name an identifier token stands for (quoted: as written; bare: lower-cased). */
const identName = (t: Token): string =>
  t.kind === 'quoted' ? t.text.slice(1, -1).replace(/""/g, '"') : t.lower;

/** A statement's tokens with the indexes of its significant ones, for scanning. */
class Statement {
  readonly sig: number[];
  constructor(readonly tokens: Token[]) {
    this.sig = tokens.flatMap((t, i) => (isSignificant(t) ? [i] : []));
  }
  /** The k-th significant token. */
  at(k: number): Token | undefined {
    const i = this.sig[k];
    return i === undefined ? undefined : this.tokens[i];
  }
  word(k: number): string | undefined {
    const t = this.at(k);
    return t?.kind === 'word' ? t.lower : undefined;
  }
  punct(k: number): string | undefined {
    const t = this.at(k);
    return t?.kind === 'punct' ? t.text : undefined;
  }
  /** The significant index of the `)` matching the `(` at significant index k. */
  close(k: number): number {
    let depth = 0;
    for (let j = k; j < this.sig.length; j++) {
      const p = this.punct(j);
      if (p === '(') depth++;
      else if (p === ')' && --depth === 0) return j;
    }
    return this.sig.length - 1;
  }
  /** The significant index of the `(` matching the `)` at significant index k. */
  open(k: number): number {
    let depth = 0;
    for (let j = k; j >= 0; j--) {
      const p = this.punct(j);
      if (p === ')') depth++;
      else if (p === '(' && --depth === 0) return j;
    }
    return 0;
  }
  /** Text of the tokens from significant index a to b inclusive (with the space between). */
  text(a: number, b: number): string {
    const from = this.sig[a];
    const to = this.sig[b];
    if (from === undefined || to === undefined || b < a) return '';
    return this.tokens
      .slice(from, to + 1)
      .map((t) => t.text)
      .join('');
  }
  /** Replaces significant tokens a..b inclusive (and what lies between) with `text`. */
  replace(a: number, b: number, text: string): void {
    const from = this.sig[a] as number;
    const to = this.sig[b] as number;
    for (let i = from; i <= to; i++) (this.tokens[i] as Token).text = '';
    (this.tokens[from] as Token).text = text;
  }
  /** Significant indexes of the depth-0 commas between significant indexes a and b (exclusive). */
  commas(a: number, b: number): number[] {
    const out: number[] = [];
    let depth = 0;
    for (let j = a; j < b; j++) {
      const p = this.punct(j);
      if (p === '(' || p === '[') depth++;
      else if (p === ')' || p === ']') depth--;
      else if (p === ',' && depth === 0) out.push(j);
    }
    return out;
  }
  toString(): string {
    return this.tokens.map((t) => t.text).join('');
  }
}

/** Splits the tokens of a simple query at its top-level semicolons (empty statements dropped). */
export const splitStatements = (tokens: Token[]): Token[][] => {
  const out: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') depth--;
    if (t.kind === 'punct' && t.text === ';' && depth <= 0) {
      if (current.some(isSignificant)) out.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.some(isSignificant)) out.push(current);
  return out;
};

/** The highest `$n` a statement uses (0 when none). */
export const maxParameter = (tokens: readonly Token[]): number =>
  tokens.reduce((max, t) => (t.kind === 'param' ? Math.max(max, Number(t.text.slice(1))) : max), 0);

/**
 * A statement that makes the server raise `message` (errcode XX000, as Redshift's errors), naming
 * every parameter up to `$parameters` so that a Bind with values still matches the Parse.
 */
export const refusalSql = (message: string, parameters: number): string => {
  const args = Array.from({ length: parameters }, (_, i) => `$${i + 1}::text`);
  return `select ${DOUBLE_SCHEMA}.refuse(${literal(message)}${args.length > 0 ? `, array[${args.join(', ')}]` : ''})`;
};

const refusal = (what: string): string => `${what} (refused by the Redshift test double)`;

/** Redshift's error for a statement over 16 MiB. */
export const tooLargeMessage = (bytes: number): string =>
  `Statement is too large. Statement Size: ${bytes} bytes. Maximum Allowed: ${MAX_STATEMENT_BYTES} bytes`;

/** Redshift's error 1023, for `injectSerializationError`. */
export const serializationMessage = (pid: number): string =>
  `1023 ERROR: Serializable isolation violation on table - 100123, transactions forming the cycle are: 1, 2 (pid:${pid})`;

/** A Redshift COPY from S3, as the proxy needs it. */
export interface S3Copy {
  /** The target table as written (`schema.table`, quoted parts kept). */
  readonly table: string;
  /** The column list as written, with its parentheses, or ''. */
  readonly columns: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly gzip: boolean;
  /** The string that stands for NULL (Redshift's default `\N`). */
  readonly nullAs: string;
  readonly quote: string;
  readonly delimiter: string;
  readonly ignoreHeader: number;
  /** Keys given with ACCESS_KEY_ID / CREDENTIALS, absent with IAM_ROLE. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export type Plan =
  | { readonly kind: 'forward'; readonly sql: string; readonly commitFirst: boolean }
  | { readonly kind: 'refuse'; readonly message: string; readonly sql: string }
  | { readonly kind: 's3copy'; readonly copy: S3Copy };

/** What the proxy knows of the session when a statement arrives. */
export interface SessionFacts {
  /** The last ReadyForQuery said 'T' (inside a transaction block). */
  readonly inTransaction: boolean;
}

class Refusal extends Error {}

const refuse = (what: string): never => {
  throw new Refusal(refusal(what));
};

/**
 * Rewrites one SQL text (one simple query, or one Parse) for PostgreSQL, or refuses it the way
 * Redshift would. A refusal is carried out by the server (`refusalSql`), so that a refused
 * statement inside a transaction aborts it, as on Redshift.
 */
export const planSql = (sql: string, facts: SessionFacts): Plan => {
  const bytes = Buffer.byteLength(sql, 'utf8');
  const tokens = lex(bytes > MAX_STATEMENT_BYTES ? '' : sql);
  const parameters = maxParameter(tokens);
  if (bytes > MAX_STATEMENT_BYTES) {
    // https://docs.aws.amazon.com/redshift/latest/dg/c_redshift-sql.html (16 MB a statement)
    const message = tooLargeMessage(bytes);
    return { kind: 'refuse', message, sql: refusalSql(message, parameters) };
  }
  try {
    const statements = splitStatements(tokens).map((t) => new Statement(t));
    for (const s of statements) checkRefusals(s);
    const copies = statements.map(s3Copy);
    const copy = copies.find((c) => c !== null);
    if (copy) {
      if (statements.length > 1)
        refuse('The Redshift test double runs a COPY from S3 only as a statement of its own');
      return { kind: 's3copy', copy };
    }
    // https://docs.aws.amazon.com/redshift/latest/dg/r_TRUNCATE.html (TRUNCATE commits the transaction it runs in)
    const commitFirst =
      facts.inTransaction && statements.length === 1 && statements[0]?.word(0) === 'truncate';
    return {
      kind: 'forward',
      sql: statements.length === 0 ? sql : statements.map(rewrite).join(';'),
      commitFirst,
    };
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    return { kind: 'refuse', message: e.message, sql: refusalSql(e.message, parameters) };
  }
};

// ---------------------------------------------------------------------------------------------
// Refusals

const dmlWords = new Set(['insert', 'update', 'delete', 'merge']);
const advisory = /^pg_(try_)?advisory_/;
/** Keywords that can stand before a parenthesised row value (any other word before `(` makes a call). */
const rowInPredecessors = new Set([
  'where',
  'and',
  'or',
  'not',
  'on',
  'when',
  'having',
  'then',
  'else',
  'row',
  'select',
  'by',
  'as',
  'case',
  'distinct',
  'all',
]);

const checkRefusals = (s: Statement): void => {
  const first = s.word(0);
  for (let k = 0; k < s.sig.length; k++) {
    const t = s.at(k) as Token;
    if (t.kind !== 'word') continue;
    const w = t.lower;
    const next = s.word(k + 1);
    const call = s.punct(k + 1) === '(' && s.punct(k - 1) !== '.';
    // https://docs.aws.amazon.com/redshift/latest/dg/r_INSERT_30.html (no RETURNING, no ON CONFLICT)
    if (w === 'returning') refuse('Redshift does not support RETURNING');
    if (w === 'on' && next === 'conflict')
      refuse('Redshift does not support INSERT … ON CONFLICT (use MERGE, or DELETE then INSERT)');
    // https://docs.aws.amazon.com/redshift/latest/dg/r_SELECT_list.html (DISTINCT without ON)
    if (w === 'distinct' && next === 'on' && s.punct(k + 2) === '(')
      refuse('Redshift does not support DISTINCT ON');
    // https://docs.aws.amazon.com/redshift/latest/dg/c_unsupported-postgresql-functions.html
    if (w === 'is' && (next === 'distinct' || (next === 'not' && s.word(k + 2) === 'distinct')))
      refuse('Redshift does not support IS [NOT] DISTINCT FROM');
    if (call && advisory.test(w)) refuse(`Redshift does not support advisory locks (${w})`);
    if (call && (w === 'string_agg' || w === 'array_agg'))
      refuse(`Redshift does not support ${w.toUpperCase()} (use LISTAGG)`);
    if (call && (w === 'nextval' || w === 'setval' || w === 'currval'))
      refuse('Redshift does not support sequences');
    // https://docs.aws.amazon.com/redshift/latest/dg/c_unsupported-postgresql-features.html (indexes, sequences)
    if (k === 0 && w === 'create') {
      const kind = [s.word(1), s.word(2), s.word(3)].find((x) => x === 'index' || x === 'sequence');
      if (kind === 'index' && (s.word(1) === 'index' || s.word(1) === 'unique'))
        refuse('Redshift does not support CREATE INDEX (sort keys and zone maps instead)');
      if (kind === 'sequence') refuse('Redshift does not support CREATE SEQUENCE (use an IDENTITY column)');
    }
    // https://docs.aws.amazon.com/redshift/latest/dg/c_unsupported-postgresql-functions.html (ROLLBACK TO SAVEPOINT)
    if (k === 0 && (w === 'savepoint' || w === 'release' || (w === 'rollback' && next === 'to')))
      refuse('Redshift does not support savepoints');
    // https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html (ADD [ COLUMN ] column_name, no IF NOT EXISTS)
    if (first === 'alter' && w === 'add') {
      const j = next === 'column' ? k + 2 : k + 1;
      if (s.word(j) === 'if' && s.word(j + 1) === 'not' && s.word(j + 2) === 'exists')
        refuse('Redshift does not support ALTER TABLE … ADD COLUMN IF NOT EXISTS');
    }
  }
  for (let k = 0; k < s.sig.length; k++) {
    // https://docs.aws.amazon.com/redshift/latest/dg/r_WITH_clause.html (a WITH subquery is a SELECT)
    if (s.punct(k) === '(' && dmlWords.has(s.word(k + 1) ?? ''))
      refuse('Redshift does not support data-modifying statements in WITH');
    // https://docs.aws.amazon.com/redshift/latest/dg/r_in_condition.html and c_unsupported-postgresql-features.html (row constructors)
    if (s.word(k) === 'in' && s.punct(k + 1) === '(' && ['select', 'with'].includes(s.word(k + 2) ?? '')) {
      const before = s.word(k - 1) === 'not' ? k - 2 : k - 1;
      if (s.punct(before) === ')') {
        const open = s.open(before);
        const prev = s.at(open - 1);
        const isCall =
          prev !== undefined &&
          (prev.kind === 'quoted' || (prev.kind === 'word' && !rowInPredecessors.has(prev.lower)));
        if ((!isCall || prev?.lower === 'row') && s.commas(open + 1, before).length > 0)
          refuse(
            'Redshift does not support a row value with IN (subquery): an IN subquery compares one column',
          );
      }
    }
  }
  checkDeleteAlias(s);
  checkLeaderNode(s);
  // https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html (sources: S3, EMR, DynamoDB, SSH)
  if (first === 'copy') {
    const from = findWord(s, 'from', 1);
    const to = findWord(s, 'to', 1);
    if (from < 0 && to >= 0) refuse('Redshift does not support COPY … TO (use UNLOAD)');
    if (from >= 0 && s.at(from + 1)?.kind !== 'string')
      refuse('Redshift does not support COPY … FROM STDIN (COPY loads from S3)');
  }
  // https://docs.aws.amazon.com/redshift/latest/dg/r_ANALYZE_COMPRESSION.html (a report the double cannot compute)
  if (first === 'analyze' && s.word(1) === 'compression')
    refuse('The Redshift test double cannot emulate ANALYZE COMPRESSION');
};

/** Functions that run on the leader node only (current_timestamp and now() are deprecated ones). */
const leaderFunctions = new Set(['current_timestamp', 'now', 'localtimestamp', 'substr', 'timeofday', 'age']);
/** System tables and views that live on the leader node. */
const leaderTables = /^(stv_|svv_|stl_|svl_|pg_)/;

/**
 * Leader-node-only functions and system tables cannot be used in a statement that reads or writes
 * a user table, which runs on the compute nodes ("Specified types or functions (one per INFO
 * message) not supported on Redshift tables"):
 * https://docs.aws.amazon.com/redshift/latest/dg/c_sql-functions-leader-node.html,
 * https://docs.aws.amazon.com/redshift/latest/dg/Date_functions_header.html (deprecated leader-node
 * date functions), https://docs.aws.amazon.com/redshift/latest/dg/c_SQL_functions_leader_node_only.html.
 * A user table is told by its schema-qualified name, as the engine writes every one.
 */
const checkLeaderNode = (s: Statement): void => {
  let userTable = false;
  const leader: string[] = [];
  for (let k = 0; k < s.sig.length; k++) {
    const t = s.at(k) as Token;
    if (t.kind === 'quoted' && s.punct(k + 1) === '.' && s.at(k + 2)?.kind === 'quoted') {
      const schema = t.text.slice(1, -1).toLowerCase();
      if (schema !== 'pg_catalog' && schema !== 'information_schema') userTable = true;
    }
    if (t.kind !== 'word' || s.punct(k - 1) === '.') continue;
    const call = s.punct(k + 1) === '(';
    if (
      leaderFunctions.has(t.lower) &&
      (call || t.lower === 'current_timestamp' || t.lower === 'localtimestamp')
    )
      leader.push(t.lower);
    if (leaderTables.test(t.lower) && !call && ['from', 'join'].includes(s.word(k - 1) ?? ''))
      leader.push(t.lower);
  }
  if (userTable && leader.length > 0)
    refuse(
      `Specified types or functions (one per INFO message) not supported on Redshift tables: ${[...new Set(leader)].join(', ')} runs on the leader node only`,
    );
};

const findWord = (s: Statement, word: string, from = 0): number => {
  for (let k = from; k < s.sig.length; k++) if (s.word(k) === word && depthAt(s, k) === 0) return k;
  return -1;
};

const depthAt = (s: Statement, k: number): number => {
  let depth = 0;
  for (let j = 0; j < k; j++) {
    const p = s.punct(j);
    if (p === '(') depth++;
    else if (p === ')') depth--;
  }
  return depth;
};

/** The end (exclusive) of a possibly qualified name starting at significant index k. */
const nameEnd = (s: Statement, k: number): number => {
  let j = k;
  while (s.at(j) && (s.at(j)?.kind === 'word' || s.at(j)?.kind === 'quoted')) {
    j++;
    if (s.punct(j) !== '.') break;
    j++;
  }
  return j;
};

// https://docs.aws.amazon.com/redshift/latest/dg/r_DELETE.html (DELETE [FROM] table [USING …] [WHERE …]: no alias)
const checkDeleteAlias = (s: Statement): void => {
  const k = s.word(0) === 'delete' ? 0 : s.word(0) === 'with' ? findWord(s, 'delete') : -1;
  if (k < 0) return;
  let j = k + 1;
  if (s.word(j) === 'from') j++;
  if (s.word(j) === 'only') j++;
  j = nameEnd(s, j);
  const after = s.at(j);
  if (after === undefined || (after.kind === 'punct' && after.text === ';')) return;
  if (after.kind === 'word' && (after.lower === 'using' || after.lower === 'where')) return;
  if (after.kind === 'word' || after.kind === 'quoted')
    refuse('Redshift does not support an alias in DELETE (DELETE FROM table [USING …] [WHERE …])');
};

// ---------------------------------------------------------------------------------------------
// Rewrites

/** One statement for PostgreSQL: its structure first, then (on the re-lexed result) its expressions. */
const rewrite = (s: Statement): string => {
  const first = s.word(0);
  if (first === 'create') rewriteCreateTable(s);
  if (first === 'alter') rewriteAlterTable(s);
  if (first === 'vacuum') rewriteVacuum(s);
  if (first === 'analyze') rewriteAnalyze(s);
  return rewriteExpressionText(s.toString());
};

/** Redshift's VARCHAR length in bytes for a type text, or null when the type is no VARCHAR. */
export const varcharBytes = (type: string): number | null => {
  // https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html (bytes; MAX is 65535; no length or TEXT is 256)
  const m = /^(?:varchar|character\s+varying|nvarchar|text)\s*(?:\(\s*(\d+|max)\s*\))?$/i.exec(type.trim());
  if (!m) return null;
  if (m[1] === undefined) return 256;
  return m[1].toLowerCase() === 'max' ? 65535 : Number(m[1]);
};

/** The CHECK constraint's name: the PostgreSQL error names it, and it reads as Redshift's length rule. */
export const varcharConstraintName = (bytes: number, column: string): string =>
  `rs_varchar_${bytes}_bytes_${column}`.slice(0, 63);

const columnOptionWords = new Set([
  'default',
  'identity',
  'generated',
  'encode',
  'distkey',
  'sortkey',
  'collate',
  'not',
  'null',
  'unique',
  'primary',
  'references',
  'constraint',
  'check',
]);

/**
 * One column definition for PostgreSQL: Redshift-only attributes dropped, keys dropped (not
 * enforced on Redshift), IDENTITY(seed, step) as a PostgreSQL identity, VARCHAR limited in bytes.
 */
const rewriteColumn = (s: Statement, a: number, b: number): string => {
  const nameToken = s.at(a) as Token;
  const column = identName(nameToken);
  let k = a + 1;
  while (
    k <= b &&
    !(
      s.at(k)?.kind === 'word' &&
      columnOptionWords.has(s.word(k) as string) &&
      depthAt(s, k) === depthAt(s, a)
    )
  )
    k++;
  const type = s.text(a + 1, k - 1);
  const bytes = varcharBytes(type);
  const parts: string[] = [nameToken.text, bytes === null ? type : `varchar(${bytes})`];
  while (k <= b) {
    const w = s.word(k);
    if (w === 'encode' || w === 'collate') k += 2;
    else if (w === 'distkey' || w === 'sortkey' || w === 'unique') k += 1;
    else if (w === 'primary' && s.word(k + 1) === 'key') k += 2;
    else if (w === 'references') {
      k = nameEnd(s, k + 1);
      if (s.punct(k) === '(') k = s.close(k) + 1;
    } else if (w === 'identity' && s.punct(k + 1) === '(') {
      parts.push(identityClause(s, k + 1));
      k = s.close(k + 1) + 1;
    } else if (w === 'generated' && s.word(k + 4) === 'identity') {
      if (s.punct(k + 5) === '(') {
        parts.push(identityClause(s, k + 5));
        k = s.close(k + 5) + 1;
      } else {
        parts.push(s.text(k, k + 4));
        k += 5;
      }
    } else if (w === 'check' || (w === 'constraint' && s.word(k + 2) === 'check'))
      // https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html (no CHECK constraints)
      refuse('Redshift does not support CHECK constraints');
    else if (w === 'constraint') k += 2;
    else if (w === 'default') {
      let j = k + 1;
      while (
        j <= b &&
        !(s.at(j)?.kind === 'word' && columnOptionWords.has(s.word(j) as string) && s.word(j) !== 'null')
      )
        j = s.punct(j) === '(' ? s.close(j) + 1 : j + 1;
      parts.push(s.text(k, j - 1));
      k = j;
    } else {
      parts.push(s.text(k, k));
      k++;
    }
  }
  if (bytes !== null)
    parts.push(
      `constraint ${ident(varcharConstraintName(bytes, column))} check (octet_length(${ident(column)}) <= ${bytes})`,
    );
  return parts.join(' ');
};

const identityClause = (s: Statement, open: number): string => {
  const close = s.close(open);
  const [comma] = s.commas(open + 1, close);
  if (comma === undefined) return 'generated by default as identity';
  return `generated by default as identity (start with ${s.text(open + 1, comma - 1)} increment by ${s.text(comma + 1, close - 1)})`;
};

const rewriteExpressionText = (sql: string): string => {
  const s = new Statement(lex(sql));
  rewriteExpressions(s);
  return s.toString();
};

// https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html
const rewriteCreateTable = (s: Statement): void => {
  let k = 1;
  while (['local', 'global', 'temp', 'temporary'].includes(s.word(k) ?? '')) k++;
  if (s.word(k) !== 'table') return;
  k++;
  if (s.word(k) === 'if' && s.word(k + 1) === 'not' && s.word(k + 2) === 'exists') k += 3;
  k = nameEnd(s, k);
  if (s.punct(k) === '(') {
    const close = s.close(k);
    const bounds = [k, ...s.commas(k + 1, close), close];
    const elements: string[] = [];
    for (let e = 0; e + 1 < bounds.length; e++) {
      const a = (bounds[e] as number) + 1;
      const b = (bounds[e + 1] as number) - 1;
      if (b < a) continue;
      const lead = s.word(a) === 'constraint' ? s.word(a + 2) : s.word(a);
      if (
        s.at(a)?.kind === 'word' &&
        lead !== undefined &&
        ['primary', 'unique', 'foreign', 'check', 'like'].includes(lead)
      ) {
        // Unique, primary and foreign keys are informational on Redshift: PostgreSQL must not enforce them.
        // https://docs.aws.amazon.com/redshift/latest/dg/t_Defining_constraints.html
        if (lead === 'check') refuse('Redshift does not support CHECK constraints');
        if (lead === 'like') elements.push(s.text(a, b));
        continue;
      }
      elements.push(rewriteColumn(s, a, b));
    }
    if (close > k + 1) s.replace(k + 1, close - 1, elements.join(', '));
    k = close + 1;
  }
  // Table attributes after the column list (or before AS in CREATE TABLE AS).
  while (k < s.sig.length) {
    const w = s.word(k);
    const start = k;
    if (w === 'diststyle' || w === 'backup') k += 2;
    else if (w === 'encode' && s.word(k + 1) === 'auto') k += 2;
    else if (w === 'distkey' && s.punct(k + 1) === '(') k = s.close(k + 1) + 1;
    else if ((w === 'compound' || w === 'interleaved') && s.word(k + 1) === 'sortkey')
      k = s.punct(k + 2) === '(' ? s.close(k + 2) + 1 : k + 3;
    else if (w === 'sortkey') k = s.punct(k + 1) === '(' ? s.close(k + 1) + 1 : k + 2;
    else break;
    s.replace(start, k - 1, '');
  }
};

// https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html
const rewriteAlterTable = (s: Statement): void => {
  if (s.word(1) !== 'table') return;
  let k = 2;
  if (s.word(k) === 'if' && s.word(k + 1) === 'exists') k += 2;
  const tableEnd = nameEnd(s, k);
  const table = s.text(k, tableEnd - 1);
  k = tableEnd;
  if (s.word(k) === 'alter') return resizeVarchar(s, table, k);
  if (s.word(k) !== 'add') return;
  const a = s.word(k + 1) === 'column' ? k + 2 : k + 1;
  if (
    s.at(a)?.kind === 'word' &&
    ['constraint', 'primary', 'unique', 'foreign', 'check'].includes(s.word(a) as string)
  )
    return;
  const end = s.punct(s.sig.length - 1) === ';' ? s.sig.length - 2 : s.sig.length - 1;
  if (end > a) s.replace(a, end, rewriteColumn(s, a, end));
};

/**
 * ALTER COLUMN … TYPE VARCHAR(n) (Redshift alters only VARCHAR sizes): the byte-length CHECK of the
 * old size goes, the new size's comes, in one DO block.
 */
const resizeVarchar = (s: Statement, table: string, k: number): void => {
  let j = s.word(k + 1) === 'column' ? k + 2 : k + 1;
  const columnToken = s.at(j);
  if (columnToken === undefined || (columnToken.kind !== 'word' && columnToken.kind !== 'quoted')) return;
  const column = identName(columnToken);
  j++;
  if (s.word(j) === 'set' && s.word(j + 1) === 'data') j += 2;
  if (s.word(j) !== 'type') return;
  const end = s.punct(s.sig.length - 1) === ';' ? s.sig.length - 2 : s.sig.length - 1;
  if (s.commas(j + 1, end + 1).length > 0) return;
  const bytes = varcharBytes(s.text(j + 1, end));
  if (bytes === null) return;
  const suffix = "regexp_replace(conname, '^rs_varchar_[0-9]+_bytes_', '')";
  s.replace(
    0,
    s.sig.length - 1,
    `do $rs_double$
declare c record;
begin
  for c in select conname from pg_constraint
            where conrelid = ${literal(table)}::regclass and contype = 'c' and conname ~ '^rs_varchar_[0-9]+_bytes_'
              and (${suffix} = ${literal(column)}
                   or (length(conname) = 63 and left(${literal(column)}, length(${suffix})) = ${suffix}))
  loop
    execute format('alter table %s drop constraint %I', ${literal(table)}::regclass, c.conname);
  end loop;
  alter table ${table} alter column ${ident(column)} type varchar(${bytes});
  alter table ${table} add constraint ${ident(varcharConstraintName(bytes, column))} check (octet_length(${ident(column)}) <= ${bytes});
end
$rs_double$`,
  );
};

// https://docs.aws.amazon.com/redshift/latest/dg/r_VACUUM_command.html
const rewriteVacuum = (s: Statement): void => {
  let k = 1;
  if (['full', 'reindex', 'recluster'].includes(s.word(k) ?? '')) k++;
  else if ((s.word(k) === 'sort' || s.word(k) === 'delete') && s.word(k + 1) === 'only') k += 2;
  const nameFrom = k;
  const end = nameEnd(s, k);
  const table = end > nameFrom ? ` ${s.text(nameFrom, end - 1)}` : '';
  s.replace(0, s.sig.length - 1, `vacuum${table}`);
};

// https://docs.aws.amazon.com/redshift/latest/dg/r_ANALYZE.html (PREDICATE COLUMNS | ALL COLUMNS)
const rewriteAnalyze = (s: Statement): void => {
  for (let k = 1; k + 1 < s.sig.length; k++)
    if ((s.word(k) === 'predicate' || s.word(k) === 'all') && s.word(k + 1) === 'columns')
      s.replace(k, k + 1, '');
};

const rewriteExpressions = (s: Statement): void => {
  for (let k = 0; k < s.sig.length; k++) {
    const w = s.word(k);
    if (w === undefined || s.punct(k - 1) === '.') continue;
    // https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html (statement start, to the second, session time zone)
    if (w === 'getdate' && s.punct(k + 1) === '(' && s.punct(k + 2) === ')') {
      s.replace(k, k + 2, "date_trunc('second', statement_timestamp()::timestamp)");
      k += 2;
    }
    // https://docs.aws.amazon.com/redshift/latest/dg/r_SYSDATE.html (transaction start, session time zone)
    else if (w === 'sysdate' && s.punct(k + 1) !== '(') s.replace(k, k, 'localtimestamp');
    // https://docs.aws.amazon.com/redshift/latest/dg/r_LISTAGG.html
    else if (w === 'listagg' && s.punct(k + 1) === '(') k = rewriteListagg(s, k);
  }
};

/** LISTAGG(expr[, sep]) [WITHIN GROUP (ORDER BY …)] → string_agg(cast(expr as varchar), sep [ORDER BY …]). */
const rewriteListagg = (s: Statement, k: number): number => {
  const close = s.close(k + 1);
  let a = k + 2;
  let distinct = '';
  if (s.word(a) === 'distinct') {
    distinct = 'distinct ';
    a++;
  }
  const [comma] = s.commas(a, close);
  const expr = rewriteExpressionText(s.text(a, (comma ?? close) - 1));
  const separator = comma === undefined ? "''" : rewriteExpressionText(s.text(comma + 1, close - 1));
  let end = close;
  let order = '';
  if (s.word(close + 1) === 'within' && s.word(close + 2) === 'group' && s.punct(close + 3) === '(') {
    end = s.close(close + 3);
    order = ` ${rewriteExpressionText(s.text(close + 4, end - 1))}`;
  }
  s.replace(k, end, `string_agg(${distinct}cast(${expr} as varchar), ${separator}${order})`);
  return end;
};

// ---------------------------------------------------------------------------------------------
// COPY from S3 (https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html)

const s3Copy = (s: Statement): S3Copy | null => {
  if (s.word(0) !== 'copy') return null;
  const tableEnd = nameEnd(s, 1);
  const table = s.text(1, tableEnd - 1);
  let k = tableEnd;
  let columns = '';
  if (s.punct(k) === '(') {
    const close = s.close(k);
    columns = s.text(k, close);
    k = close + 1;
  }
  if (s.word(k) !== 'from' || s.at(k + 1)?.kind !== 'string') return null;
  const source = stringValue(s.at(k + 1) as Token);
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source);
  if (!m) refuse(`The Redshift test double loads only from S3, not from '${source}'`);
  k += 2;
  const value = (): string => {
    if (s.word(k) === 'as') k++;
    const t = s.at(k);
    if (t === undefined || (t.kind !== 'string' && t.kind !== 'number' && t.kind !== 'word'))
      refuse('COPY option without its value');
    k++;
    return t?.kind === 'string' ? redshiftStringValue(t) : (t?.text ?? '');
  };
  let gzip = false;
  let csv = false;
  let nullAs = '\\N';
  let quote = '"';
  let delimiter: string | null = null;
  let ignoreHeader = 0;
  let accessKeyId: string | undefined;
  let secretAccessKey: string | undefined;
  while (k < s.sig.length) {
    const w = s.word(k);
    if (s.punct(k) === ';') break;
    k++;
    switch (w) {
      case 'csv':
        csv = true;
        if (s.word(k) === 'quote') {
          k++;
          quote = value();
        }
        break;
      case 'format':
        if (s.word(k) === 'as') k++;
        if (s.word(k) !== 'csv')
          refuse(`The Redshift test double loads only CSV, not FORMAT ${s.word(k) ?? ''}`);
        csv = true;
        k++;
        break;
      case 'gzip':
        gzip = true;
        break;
      case 'null':
        nullAs = value();
        break;
      case 'delimiter':
        delimiter = value();
        break;
      case 'ignoreheader':
        ignoreHeader = Number(value());
        break;
      case 'access_key_id':
        accessKeyId = value();
        break;
      case 'secret_access_key':
        secretAccessKey = value();
        break;
      case 'credentials': {
        const credentials = value();
        accessKeyId = /aws_access_key_id=([^;]*)/.exec(credentials)?.[1] ?? accessKeyId;
        secretAccessKey = /aws_secret_access_key=([^;]*)/.exec(credentials)?.[1] ?? secretAccessKey;
        break;
      }
      case 'maxerror':
        if (Number(value()) !== 0)
          refuse('The Redshift test double cannot skip bad rows: MAXERROR must be 0');
        break;
      case 'iam_role':
      case 'session_token':
      case 'region':
      case 'timeformat':
      case 'dateformat':
      case 'compupdate':
      case 'statupdate':
      case 'acceptinvchars':
      case 'encoding':
        if (w === 'acceptinvchars' && s.at(k)?.kind !== 'string' && s.word(k) !== 'as') break;
        value();
        break;
      case 'with':
        break;
      case 'emptyasnull':
      case 'blanksasnull':
      case 'truncatecolumns':
      case 'trimblanks':
      case 'removequotes':
      case 'escape':
      case 'explicit_ids':
        break;
      default:
        refuse(`The Redshift test double does not know the COPY option ${w ?? s.at(k - 1)?.text ?? ''}`);
    }
  }
  if (!csv) refuse('The Redshift test double loads only CSV (COPY … CSV or FORMAT AS CSV)');
  return {
    table,
    columns,
    bucket: (m as RegExpExecArray)[1] as string,
    prefix: (m as RegExpExecArray)[2] as string,
    gzip,
    nullAs,
    quote,
    delimiter: delimiter ?? ',',
    ignoreHeader,
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
  };
};

/** PostgreSQL's COPY FROM STDIN for an S3 COPY's data. */
export const copyFromStdinSql = (copy: S3Copy): string =>
  `copy ${copy.table}${copy.columns ? ` ${copy.columns}` : ''} from stdin with (format csv, null ${literal(copy.nullAs)}, quote ${literal(copy.quote)}, delimiter ${literal(copy.delimiter)})`;

/**
 * The CSV records of one file: where each starts (byte offset and physical line, 1-based), so that
 * PostgreSQL's `line N` of the concatenated stream maps back to a file and its line. A newline
 * inside quotes belongs to the record.
 */
export const csvRecordStarts = (data: Buffer, quote = '"'): { offset: number; line: number }[] => {
  const q = quote.charCodeAt(0);
  const starts: { offset: number; line: number }[] = [];
  let quoted = false;
  let line = 1;
  let recordStart = true;
  for (let i = 0; i < data.length; i++) {
    if (recordStart) {
      starts.push({ offset: i, line });
      recordStart = false;
    }
    const c = data[i];
    if (c === q) quoted = !quoted;
    else if (c === 10) {
      line++;
      if (!quoted) recordStart = true;
    }
  }
  return starts;
};

/** A parsed PostgreSQL COPY error context: `COPY t, line 3, column x: "…"`. */
export const parseCopyContext = (
  context: string,
): { line: number; column: string | null; value: string | null } | null => {
  const m = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?(?::\s*"([\s\S]*)")?/.exec(context);
  if (!m) return null;
  return { line: Number(m[1]), column: m[2] ?? null, value: m[3] ?? null };
};

/** Redshift's load error code for a PostgreSQL SQLSTATE (https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html). */
export const loadErrorCode = (sqlstate: string): number => {
  switch (sqlstate) {
    case '22P02':
    case '22003':
      return 1207; // Invalid digit / numeric value out of range
    case '22001':
    case '23514':
      return 1204; // String length exceeds DDL length (the byte-length check)
    case '22007':
    case '22008':
      return 1205; // Invalid date or timestamp format
    case '23502':
      return 1213; // Missing data for not-null field
    case '22P04':
      return 1214; // Delimiter not found / extra data
    default:
      return 1216; // General input error
  }
};
