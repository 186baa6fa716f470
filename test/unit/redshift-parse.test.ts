/**
 * No Redshift runs here, so every statement of the Redshift goldens (test/golden/redshift/) is
 * syntax-checked by a Redshift-dialect parser, `@polyglot-sql/sdk`. A statement it wrongly rejects
 * needs an entry in test/golden/redshift/parser-allow-list.json citing the AWS documentation.
 *
 * The second suite pins what that check proves: it rejects malformed SQL and malformed Redshift
 * table options, but not PostgreSQL-only syntax Redshift refuses
 * (https://docs.aws.amazon.com/redshift/latest/dg/c_unsupported-postgresql-features.html), and it
 * reads VACUUM and LOCK as opaque commands. Those stay for the Redshift test double to refuse at
 * run time.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkGoldenDir,
  parseRedshift,
  readAllowList,
  splitGoldenStatements,
  type AllowEntry,
} from '../support/redshift-parser.js';

const goldenDir = fileURLToPath(new URL('../golden/redshift/', import.meta.url));
const allowListPath = join(goldenDir, 'parser-allow-list.json');

describe('Redshift goldens parse as Redshift SQL', () => {
  it('parses every statement under test/golden/redshift/, or an allow-list entry says why the parser is wrong', async () => {
    const check = await checkGoldenDir(goldenDir, await readAllowList(allowListPath));
    expect(
      check.files.length,
      'no .sql file under test/golden/redshift/: nothing was checked',
    ).toBeGreaterThan(0);
    expect(check.failures, 'statements the Redshift parser rejects').toEqual([]);
    expect(
      check.stale.map((entry) => entry.pattern),
      'allow-list entries that excuse no rejected statement: remove them',
    ).toEqual([]);
  });
});

/** Statements of the kinds the Redshift engine sends, as the goldens write them. */
const redshiftStatements = [
  `create table if not exists "s"."mart_uni_tracking_info" (
  "id" bigint,
  "order_id" varchar(256),
  "update_time" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle key distkey("order_id") compound sortkey("update_time", "order_id")`,
  `create table if not exists "s"."uni_tracking_info_raw" (
  "id" bigint,
  "order_id" varchar(256),
  "_batch_id" bigint
) diststyle even sortkey("_batch_id")`,
  `create table if not exists "s"."order_tracking_exceptions" ("exception_id" bigint identity(1, 1), "order_id" varchar(256), "exception_type" varchar(64), "detected_at" timestamp) distkey("order_id") sortkey("exception_type", "detected_at")`,
  `copy "s"."t" ("a", "b") from 's3://bucket/prefix/run-1/batch-2/t/' iam_role 'arn:aws:iam::123456789012:role/r' format as csv gzip null as '\\N' timeformat 'auto' dateformat 'auto' region 'us-east-1' compupdate off statupdate off`,
  // As copyStatement (redshift/redshift-s3.ts) writes it: on several lines, with keys, and '\\N'.
  `copy "s"."t" ("a", "b")
  from 's3://bucket/prefix/run-1/'
  access_key_id 'AK' secret_access_key '***'
  format as csv gzip null as '\\\\N' timeformat 'auto' dateformat 'auto' region 'us-east-1'
  compupdate off statupdate off`,
  `vacuum delete only "s"."mart_uni_tracking_info"`,
  `vacuum sort only "s"."t"`,
  `analyze "s"."t"`,
  `lock "m"."lease"`,
  `merge into "s"."t" using "s2"."u" on t.id = u.id when matched then update set x = u.x when not matched then insert (id, x) values (u.id, u.x)`,
  `select listagg(order_id, ',') within group (order by order_id) from t`,
  `delete from "s"."t" where exists (select 1 from ot_stage s where s."order_id" = "t"."order_id")`,
  `create temporary table ot_stage as
select "id", "order_id", "update_time" from "s"."uni_tracking_info_raw"
 where _batch_id > $1 and _batch_id <= $2`,
  `insert into "s"."t" ("id", "order_id", "_loaded_at")
select "id", "order_id", cast($3 as timestamp)
from (select "id", "order_id", row_number() over (partition by "order_id" order by "update_time" desc, "id" desc) as ot_rank from ot_stage) ranked
where ot_rank = 1`,
  `update "m"."lease" set holder = $1, expires_at = current_timestamp where name = $2`,
  `select "schema" as table_schema, "table" as table_name, unsorted, stats_off
  from svv_table_info
 where false`,
];

/** Redshift accepts these (see the URL); the parser rejects them. */
const falseNegatives = [
  // https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html: options in any order
  `copy "s"."t" from 's3://b/p/' iam_role 'arn:aws:iam::1:role/r' csv timeformat 'auto'`,
  `copy "s"."t" from 's3://b/p/' iam_role 'arn:aws:iam::1:role/r' region 'us-east-1' null as '\\N'`,
  // https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE_APPEND.html
  `alter table "s"."t" append from ot_stage`,
];

/** PostgreSQL-only syntax Redshift refuses (as `redshiftCapabilities` states), which the parser accepts all the same. */
const postgresOnly = [
  `select distinct on (a) a from t order by a, b`,
  `insert into t (a) values (1) returning id`,
  `insert into t (a) values (1) on conflict do nothing`,
  `insert into t (a) values (1) on conflict (a) do update set a = excluded.a`,
  `with lost as (delete from x returning a) delete from y where a in (select a from lost)`,
  `select * from t for update skip locked`,
  `create index i on t (a)`,
  `create unlogged table t (a int)`,
  `create table t (id bigserial)`,
  `select count(*) filter (where a > 1) from t`,
  `select * from generate_series(1, 10)`,
  `copy t from stdin`,
  `lock table t in access exclusive mode`,
  `select pg_advisory_lock(1)`,
  `select string_agg(a, ',') from t`,
  `create sequence s`,
  `savepoint a`,
  `delete from t as x where x.a = 1`,
  `select 1 from t where a is distinct from b`,
  `select 1 from t where (a, b) in (select c, d from u)`,
  `alter table t add column if not exists a int`,
];

/** Malformed statements the parser does reject. */
const malformed = [
  `selec 1`,
  `select (1 from t`,
  `select 1 from t where`,
  `create table t (a int) diststyle bogus`,
  `create table t (a int, b int) distkey(a, b)`,
  `analyze foo bar baz`,
];

/** `statements` in the golden format: each ends in `;` at the end of its line, comments between. */
const goldenText = (statements: readonly string[]): string =>
  ['-- stage', ...statements.map((sql, i) => `${sql};\n-- params: [${i}]\n-- counts: rows`)].join('\n\n');

describe('what the Redshift parser check proves', () => {
  let dir: string;
  let allowList: AllowEntry[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'redshift-parse-'));
    allowList = await readAllowList(allowListPath);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the statements the Redshift engine sends, COPY through the allow-list', async () => {
    const good = join(dir, 'good');
    await mkdir(good);
    await writeFile(join(good, 'engine.sql'), goldenText(redshiftStatements));
    const check = await checkGoldenDir(good, allowList);
    expect(check.files).toEqual(['engine.sql']);
    expect(check.statements).toBe(redshiftStatements.length);
    expect(check.failures).toEqual([]);
  });

  it.each(falseNegatives)('wrongly rejects %s', (sql) => {
    expect(parseRedshift(sql).ok).toBe(false);
  });

  it.each(postgresOnly)('does not reject PostgreSQL-only %s', (sql) => {
    expect(parseRedshift(sql)).toEqual({ ok: true });
  });

  it('reads VACUUM and LOCK as opaque commands, whatever follows', () => {
    expect(parseRedshift('vacuum blah blah blah')).toEqual({ ok: true });
    expect(parseRedshift('lock foo bar baz')).toEqual({ ok: true });
  });

  it.each(malformed)('rejects %s', (sql) => {
    expect(parseRedshift(sql).ok).toBe(false);
  });

  it('names the file, statement, first line and parser message of a rejection, and stale allow-list entries', async () => {
    const bad = join(dir, 'bad');
    await mkdir(join(bad, 'nested'), { recursive: true });
    await writeFile(
      join(bad, 'nested', 'plan.sql'),
      `${goldenText(['select 1', 'select (1\nfrom t', 'vacuum sort only "s"."t"'])}\n\nselect 2; select 3;\n\nselect 4\n`,
    );
    const stale = {
      pattern: '^truncate ',
      reason: 'https://docs.aws.amazon.com/redshift/latest/dg/r_TRUNCATE.html',
    };
    const check = await checkGoldenDir(bad, [stale]);
    expect(check.files).toEqual(['nested/plan.sql']);
    expect(check.statements).toBe(5);
    expect(check.failures).toEqual([
      `nested/plan.sql:7 statement 2 "select (1": Parse error at line 2, column 5: Expected RParen, got From ('from') near [select (1 from t]`,
      `nested/plan.sql:16 statement 4 "select 2; select 3": parsed as 2 statements: end each statement with ';' at the end of its line`,
      `nested/plan.sql:18 statement 5 "select 4": does not end in ';' at the end of a line (a truncated golden file?)`,
    ]);
    expect(check.stale).toEqual([stale]);
  });
});

describe('splitting a golden file into statements', () => {
  it('drops comment lines, keeps their lines blank, and records where each statement starts', () => {
    const text = `-- stage\n\nselect a\n  -- why\n  from t;\n-- params: [1]\n\n-- look-up: x\nselect 2; -- a note\n-- answer: 2\n`;
    expect(splitGoldenStatements(text)).toEqual([
      { sql: 'select a\n  \n  from t', line: 3, terminated: true },
      { sql: 'select 2', line: 9, terminated: true },
    ]);
  });

  it('does not end a statement at a ; inside a literal, a quoted name, a dollar quote or mid-line', () => {
    const text = `select ';\n', "a;\n" from t where x = $1;\ncreate function f() returns int as $body$ select 1;\n $body$ language sql;\nselect 1; select 2;\n`;
    expect(splitGoldenStatements(text).map((s) => s.sql)).toEqual([
      `select ';\n', "a;\n" from t where x = $1`,
      `create function f() returns int as $body$ select 1;\n $body$ language sql`,
      'select 1; select 2',
    ]);
  });

  it('reads -- inside a literal as text, and keeps a statement that lacks its ;', () => {
    expect(splitGoldenStatements(`select '--' as a;\nselect 2`)).toEqual([
      { sql: "select '--' as a", line: 1, terminated: true },
      { sql: 'select 2', line: 2, terminated: false },
    ]);
  });
});

describe('the allow-list', () => {
  it('gives every entry a reason with the AWS doc URL that shows Redshift accepts the statement', async () => {
    const entries = await readAllowList(allowListPath);
    for (const entry of entries)
      expect(entry.reason).toMatch(/https:\/\/docs\.aws\.amazon\.com\/redshift\/\S+/);
  });
});
