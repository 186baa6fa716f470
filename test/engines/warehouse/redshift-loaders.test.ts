/**
 * Redshift's two load paths, on the real things that can run here: multi-row INSERTs against
 * PostgreSQL (the literals read the same there), and gzip CSV parts staged in a local S3 server
 * (s3rver), read back by PostgreSQL's `COPY … (FORMAT csv, NULL '\N')` as the Redshift test double
 * reads them. Redshift itself cannot run here: its COPY statement is pinned as text.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column, LogicalType, Row } from '../../../src/engines/types.js';
import {
  CsvEncoder,
  REDSHIFT_MAX_VARCHAR_BYTES,
  redshiftVarcharBytes,
} from '../../../src/engines/warehouse/redshift/redshift-csv.js';
import { insertRows, stringLiteral } from '../../../src/engines/warehouse/redshift/redshift-insert.js';
import {
  copyIntoViaS3,
  CopyLoadError,
  copyStatement,
  copyStatementForDisplay,
  describeLoadFailure,
} from '../../../src/engines/warehouse/redshift/redshift-copy.js';
import {
  deleteStaged,
  deleteStagedBefore,
  stageRows,
  type S3Staging,
} from '../../../src/engines/warehouse/redshift/redshift-s3.js';
import { redshiftCapabilities } from '../../../src/engines/warehouse/redshift/redshift-dialect.js';
import type { WarehouseCapabilities } from '../../../src/engines/warehouse/warehouse.js';
import { createTestDatabase, pgUp, type TestDatabase } from './postgres/test-database.js';

/** Redshift's facts as the loaders read them: varchar counts bytes, text cannot hold U+0000. */
const redshift: WarehouseCapabilities = redshiftCapabilities;

/** In CI the server suites are mandatory: a server that does not answer fails them, never skips. */
const skip = !pgUp && process.env.CI !== 'true';

const column = (name: string, type: LogicalType): Column => ({ name, sourceName: name, type });

const columns: readonly Column[] = [
  column('id', { kind: 'bigint' }),
  column('code', { kind: 'varchar', length: 10 }),
  column('note', { kind: 'text' }),
  column('amount', { kind: 'decimal', precision: 18, scale: 2 }),
  column('big', { kind: 'bigint' }),
  column('day', { kind: 'date' }),
  column('at', { kind: 'timestamp' }),
  column('flag', { kind: 'boolean' }),
  column('ratio', { kind: 'double' }),
];

/** The table as the Redshift dialect declares it: varchar(n) as min(4n, 65535), text as varchar(65535). */
const createTable = `create table s.t (
  id bigint, code varchar(${redshiftVarcharBytes(10)}), note varchar(${REDSHIFT_MAX_VARCHAR_BYTES}),
  amount numeric(18,2), big bigint, day date, at timestamp, flag boolean, ratio double precision)`;

/** Every value as PostgreSQL prints it, to compare exactly. */
const selectText = `select id::text, code, note, amount::text, big::text, day::text, at::text, flag::text, ratio::text
  from s.t order by id`;

const tricky: Row[] = [
  [1, 'plain', 'hello', '12.50', 9_223_372_036_854_775_807n, '2024-02-29', '2024-01-01 00:00:00', true, 1.5],
  [2, null, null, null, null, null, null, null, null],
  [
    3,
    "it's",
    'say "hi", then\nnew line\r\nand a tab\t',
    '-0.01',
    -42,
    '1999-12-31',
    '2024-06-30T23:59:59.123Z',
    false,
    -0,
  ],
  [
    4,
    'a\\b\\',
    '\\N',
    '99999999999999.99',
    '9007199254740993',
    '0001-01-01',
    '2024-01-01 12:34:56.5',
    true,
    1e300,
  ],
  [5, '', "''\\''", '0', 0, '2024-01-01', '2024-01-01', false, 0.1],
  [6, '漢字😀', 'caf\u00e9 e\u0301 😀 ,;|', '1', 1n, '2024-12-31', '2024-12-31 23:59:59', true, 3],
];

const trickyText = [
  ['1', 'plain', 'hello', '12.50', '9223372036854775807', '2024-02-29', '2024-01-01 00:00:00', 'true', '1.5'],
  ['2', null, null, null, null, null, null, null, null],
  [
    '3',
    "it's",
    'say "hi", then\nnew line\r\nand a tab\t',
    '-0.01',
    '-42',
    '1999-12-31',
    '2024-06-30 23:59:59.123',
    'false',
    '0',
  ],
  [
    '4',
    'a\\b\\',
    '\\N',
    '99999999999999.99',
    '9007199254740993',
    '0001-01-01',
    '2024-01-01 12:34:56.5',
    'true',
    '1e+300',
  ],
  ['5', '', "''\\''", '0.00', '0', '2024-01-01', '2024-01-01 00:00:00', 'false', '0.1'],
  ['6', '漢字😀', 'caf\u00e9 e\u0301 😀 ,;|', '1.00', '1', '2024-12-31', '2024-12-31 23:59:59', 'true', '3'],
];

async function* batches(rows: readonly Row[], size = 2): AsyncIterable<readonly Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

interface Database {
  readonly client: pg.Client;
  readonly db: TestDatabase;
  rows(): Promise<unknown[][]>;
}

const openDatabase = async (): Promise<Database> => {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('create schema s');
  await client.query(createTable);
  return {
    client,
    db,
    rows: async () => (await client.query({ text: selectText, rowMode: 'array' })).rows as unknown[][],
  };
};

describe('Redshift literals and limits', () => {
  it('writes a backslash as chr(92) between quoted pieces, quotes doubled', () => {
    expect(stringLiteral("it's")).toBe("'it''s'");
    expect(stringLiteral('a\\b\\')).toBe("'a' || chr(92) || 'b' || chr(92) || ''");
  });

  it('declares varchar(n) as min(4n, 65535) bytes', () => {
    expect(redshiftVarcharBytes(10)).toBe(40);
    expect(redshiftVarcharBytes(16_383)).toBe(65_532);
    expect(redshiftVarcharBytes(20_000)).toBe(65_535);
  });

  it('writes CSV with every string quoted and NULL as an unquoted \\N', () => {
    const encoder = new CsvEncoder('t', columns, redshift);
    expect(encoder.encode(tricky.slice(0, 5)).toString('utf8')).toBe(
      [
        '1,"plain","hello","12.50",9223372036854775807,"2024-02-29","2024-01-01 00:00:00",true,1.5',
        '2,\\N,\\N,\\N,\\N,\\N,\\N,\\N,\\N',
        '3,"it\'s","say ""hi"", then\nnew line\r\nand a tab\t","-0.01",-42,"1999-12-31","2024-06-30T23:59:59.123Z",false,0',
        '4,"a\\b\\","\\N","99999999999999.99","9007199254740993","0001-01-01","2024-01-01 12:34:56.5",true,1e+300',
        '5,"","\'\'\\\'\'","0",0,"2024-01-01","2024-01-01",false,0.1',
        '',
      ].join('\n'),
    );
  });

  it('counts text against varchar(65535) bytes, and a varchar(n) against 4n bytes', () => {
    const encoder = new CsvEncoder('t', columns, redshift);
    const row = (id: number, code: string, note: string): Row => [
      id,
      code,
      note,
      null,
      null,
      null,
      null,
      null,
      null,
    ];
    encoder.encode([row(1, '😀'.repeat(10), 'é'.repeat(32_767)), row(2, 'é'.repeat(21), 'é'.repeat(32_768))]);
    expect(encoder.quarantined).toEqual([
      { type: 'BAD_VALUE', column: 'code', id: '2', reason: '42 bytes, more than varchar(40)' },
      { type: 'BAD_VALUE', column: 'note', id: '2', reason: '65536 bytes, more than varchar(65535)' },
    ]);
  });
});

describe.skipIf(skip)('Redshift INSERT path, on PostgreSQL', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase();
  });
  afterAll(async () => {
    await database?.client.end();
    await database?.db.drop();
  });

  const connection = (sent: string[] = []) => ({
    execute: async (sql: string): Promise<number> => {
      sent.push(sql);
      return (await database.client.query(sql)).rowCount ?? 0;
    },
  });

  it('lands NULLs, quotes, backslashes, line breaks, unicode, big integers, decimals, dates and booleans exactly', async () => {
    await database.client.query('truncate s.t');
    const result = await insertRows(connection(), redshift, 's', 't', columns, batches(tricky));
    expect(result).toEqual({ rows: 6, quarantined: [] });
    expect(await database.rows()).toEqual(trickyText);
  });

  it('splits a load into statements under maxStatementBytes, every row landing once', async () => {
    await database.client.query('truncate s.t');
    const sent: string[] = [];
    const rows: Row[] = Array.from({ length: 120 }, (_, i) => [
      i,
      `c${i}`,
      `note ${'x'.repeat(i % 37)} ${i}`,
      `${i}.25`,
      i * 1000,
      '2024-01-01',
      '2024-01-01 10:00:00',
      i % 2 === 0,
      i / 3,
    ]);
    const result = await insertRows(connection(sent), redshift, 's', 't', columns, batches(rows, 25), {
      maxStatementBytes: 1_000,
    });
    expect(result.rows).toBe(120);
    expect(sent.length).toBeGreaterThan(5);
    for (const sql of sent) expect(Buffer.byteLength(sql, 'utf8')).toBeLessThanOrEqual(1_000);
    const { rows: counted } = await database.client.query(
      'select count(*)::int as n, count(distinct id)::int as ids, min(id)::int as lo, max(id)::int as hi from s.t',
    );
    expect(counted[0]).toEqual({ n: 120, ids: 120, lo: 0, hi: 119 });
  });

  it('quarantines a varchar over its bytes and U+0000 by name, and lands the rest of the row', async () => {
    await database.client.query('truncate s.t');
    const result = await insertRows(
      connection(),
      redshift,
      's',
      't',
      columns,
      batches([
        [7, 'é'.repeat(21), 'kept', '1.00', 1, '2024-01-01', '2024-01-01 00:00:00', true, 1],
        [8, 'ok', 'nul\0here', '2.00', 2, '2024-01-02', '2024-01-02 00:00:00', false, 2],
      ]),
    );
    expect(result.rows).toBe(2);
    expect(result.quarantined).toEqual([
      { type: 'BAD_VALUE', column: 'code', id: '7', reason: '42 bytes, more than varchar(40)' },
      {
        type: 'BAD_VALUE',
        column: 'note',
        id: '8',
        reason: 'holds the character U+0000, which text here cannot store',
      },
    ]);
    expect(await database.rows()).toEqual([
      ['7', null, 'kept', '1.00', '1', '2024-01-01', '2024-01-01 00:00:00', 'true', '1'],
      ['8', 'ok', null, '2.00', '2', '2024-01-02', '2024-01-02 00:00:00', 'false', '2'],
    ]);
  });

  it('fails on a row too large for one statement, naming the table and the row', async () => {
    const big: Row = [99, 'a', 'x'.repeat(2_000), null, null, null, null, null, null];
    await expect(
      insertRows(connection(), redshift, 's', 't', columns, batches([big]), { maxStatementBytes: 1_000 }),
    ).rejects.toThrow(
      /^cannot load s\.t: row id 99 alone makes an INSERT of \d+ bytes, more than the 1000 allowed/,
    );
  });
});

type S3rverInstance = {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  on(
    event: 'event',
    listener: (event: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => void,
  ): void;
};
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
// s3rver ships no types; its constructor is all this suite uses.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

const keys = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe.skipIf(skip)('Redshift S3 staging, on a local S3 server', () => {
  let server: S3rverInstance;
  let directory: string;
  let staging: S3Staging;
  let client: S3Client;
  let database: Database;
  const created: { key: string; eventName: string }[] = [];

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ot-s3-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory,
      configureBuckets: [{ name: 'staging' }],
    });
    const { port } = await server.run();
    server.on('event', (e) =>
      created.push({ key: e.Records[0]!.s3.object.key, eventName: e.Records[0]!.eventName }),
    );
    staging = {
      bucket: 'staging',
      prefix: 'loads/',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: keys,
    };
    client = new S3Client({
      region: 'us-east-1',
      endpoint: staging.endpoint,
      forcePathStyle: true,
      credentials: keys,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    database = await openDatabase();
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
    await database?.client.end();
    await database?.db.drop();
  });

  const list = async (prefix: string): Promise<string[]> => {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'staging', Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key!).sort();
  };

  /** What the Redshift test double does for COPY: every part under the prefix, through PostgreSQL's CSV COPY. */
  const copyParts = async (prefix: string): Promise<number> => {
    let loaded = 0;
    for (const key of await list(`${prefix}/`)) {
      const object = await client.send(new GetObjectCommand({ Bucket: 'staging', Key: key }));
      const csv = gunzipSync(Buffer.from(await object.Body!.transformToByteArray()));
      const copy = database.client.query(
        copyStreams.from(
          `copy s.t (${columns.map((c) => c.name).join(', ')}) from stdin (format csv, null '\\N')`,
        ),
      );
      await pipeline(Readable.from([csv]), copy);
      loaded += copy.rowCount ?? 0;
    }
    return loaded;
  };

  it('writes a load larger than partBytes as several gzip parts that PostgreSQL reads back exactly', async () => {
    await database.client.query('truncate s.t');
    const many: Row[] = Array.from({ length: 1_200 }, (_, i) => {
      const base = tricky[i % tricky.length]!;
      return [i, ...base.slice(1)];
    });
    const staged = await stageRows(
      staging,
      { runId: 7, batchId: 3, table: 't' },
      redshift,
      columns,
      batches(many, 100),
      {
        partBytes: 16 * 1024,
      },
    );
    expect(staged.prefix).toBe('loads/run-7/batch-3/t');
    expect(staged.rows).toBe(1_200);
    expect(staged.quarantined).toEqual([]);
    expect(staged.parts).toBeGreaterThan(3);
    expect(await list('loads/run-7/batch-3/t/')).toEqual(
      Array.from(
        { length: staged.parts },
        (_, i) => `loads/run-7/batch-3/t/part-${String(i).padStart(5, '0')}.csv.gz`,
      ),
    );
    expect(await copyParts(staged.prefix)).toBe(1_200);
    const back = await database.rows();
    expect(back).toHaveLength(1_200);
    back.sort((a, b) => Number(a[0]) - Number(b[0]));
    back.forEach((row, i) => expect(row).toEqual([String(i), ...trickyText[i % tricky.length]!.slice(1)]));
  });

  it('uploads a part above 5 MiB compressed in several parts (multipart)', async () => {
    // Random text barely compresses: 9 MiB of it (in values under text's 65,535 bytes) is well over lib-storage's 5 MiB part size gzipped.
    const rows: Row[] = Array.from({ length: 160 }, (_, i) => [
      i,
      'c',
      randomBytes(45 * 1024).toString('base64'),
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    const staged = await stageRows(
      staging,
      { runId: 8, batchId: 1, table: 'big' },
      redshift,
      columns,
      batches(rows, 8),
    );
    expect(staged.parts).toBe(1);
    expect(staged.quarantined).toEqual([]);
    expect(created.filter((c) => c.key === 'loads/run-8/batch-1/big/part-00000.csv.gz')).toEqual([
      { key: 'loads/run-8/batch-1/big/part-00000.csv.gz', eventName: 'ObjectCreated:Post' },
    ]);
    expect(await deleteStaged(staging, staged.prefix)).toBe(1);
  });

  it('says which bucket and why on wrong keys, a missing bucket or no server, never the secret', async () => {
    const stage = (s: S3Staging) =>
      stageRows(s, { runId: 1, batchId: 1, table: 't' }, redshift, columns, batches(tricky));
    const secret = 'wrong-secret-Zx81Qp';
    // s3rver does not verify V4 signatures; real S3's answer to a wrong secret comes from a stand-in.
    const refusing = createServer((request, response) => {
      request.resume();
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as AddressInfo;
    const wrongSecret = stage({
      ...staging,
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: secret },
    }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    const refused = await wrongSecret;
    refusing.close();
    expect(refused?.message).toBe(
      `cannot clean up s3://staging/loads at http://127.0.0.1:${port}: the secret access key does not match the access key id (SignatureDoesNotMatch); check the S3 credentials`,
    );
    expect(refused?.message).not.toContain(secret);
    await expect(
      stage({ ...staging, credentials: { accessKeyId: 'NOBODY', secretAccessKey: secret } }),
    ).rejects.toThrow(
      /: S3 does not know the access key id \(InvalidAccessKeyId\); check the S3 credentials$/,
    );
    await expect(stage({ ...staging, bucket: 'missing' })).rejects.toThrow(
      /^cannot clean up s3:\/\/missing\/loads at .*the bucket missing does not exist \(NoSuchBucket\)/,
    );
    await expect(stage({ ...staging, endpoint: 'http://127.0.0.1:1' })).rejects.toThrow(
      /^cannot clean up s3:\/\/staging\/loads at http:\/\/127\.0\.0\.1:1: cannot reach http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    );
  });

  it('deleteStaged leaves nothing under the prefix; deleteStagedBefore only the old parts', async () => {
    const rows: Row[] = Array.from({ length: 300 }, (_, i) => [
      i,
      'c',
      'n',
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    const cleanup = { ...staging, prefix: 'cleanup' };
    const old = await stageRows(
      cleanup,
      { runId: 20, batchId: 1, table: 't' },
      redshift,
      columns,
      batches(rows, 50),
      {
        partBytes: 2_000,
      },
    );
    await client.send(
      new PutObjectCommand({ Bucket: 'staging', Key: 'cleanup/run-20/notes.txt', Body: 'keep' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const recent = await stageRows(
      cleanup,
      { runId: 21, batchId: 1, table: 't' },
      redshift,
      columns,
      batches(rows, 50),
    );
    expect(old.parts).toBeGreaterThan(1);
    expect(await deleteStagedBefore(cleanup, cut)).toBe(old.parts);
    expect(await list('cleanup/')).toEqual([
      'cleanup/run-20/notes.txt',
      'cleanup/run-21/batch-1/t/part-00000.csv.gz',
    ]);
    expect(await deleteStaged(cleanup, recent.prefix)).toBe(1);
    expect(await list(`${recent.prefix}/`)).toEqual([]);
  });

  it('stages then COPYs, returning the prefix; a failed COPY names the table, then the first stl_load_errors line', async () => {
    await database.client.query('truncate s.t');
    const sent: string[] = [];
    const connection = {
      execute: async (sql: string): Promise<number> => {
        sent.push(sql);
        return copyParts(/from 's3:\/\/staging\/(.*)\/'/.exec(sql)![1]!);
      },
      query: async () => [],
    };
    const result = await copyIntoViaS3(
      connection,
      staging,
      { runId: 30, batchId: 2, table: 't' },
      redshift,
      's',
      't',
      columns,
      batches(tricky),
    );
    expect(result).toEqual({ rows: 6, quarantined: [], prefix: 'loads/run-30/batch-2/t' });
    expect(await database.rows()).toEqual(trickyText);
    expect(sent).toEqual([copyStatement('s', 't', columns, staging, result.prefix, keys)]);

    const failing = {
      execute: async (sql: string): Promise<number> => {
        // A server or driver message that quotes the statement must not carry the keys onwards.
        throw new Error(`Load into table 't' failed: ${sql.replaceAll('\n', ' ')}\nCheck 'stl_load_errors'`);
      },
      query: async (sql: string, params?: readonly unknown[]) => {
        expect(sql).toContain('from stl_load_errors');
        expect(params).toEqual(['s3://staging/loads/run-31/batch-1/t/%']);
        return [
          {
            filename: 's3://staging/loads/run-31/batch-1/t/part-00000.csv.gz',
            line_number: 3,
            colname: 'amount',
            type: 'numeric',
            raw_field_value: 'abc',
            err_code: 1207,
            err_reason: "Invalid digit, Value 'a', Pos 0, Type: Decimal",
          },
        ];
      },
    };
    const error = await copyIntoViaS3(
      failing,
      staging,
      { runId: 31, batchId: 1, table: 't' },
      redshift,
      's',
      't',
      columns,
      batches(tricky),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CopyLoadError);
    const message = (error as Error).message;
    expect(message).toMatch(/^COPY into s\.t failed: Load into table 't' failed: copy "s"\."t" /);
    expect(message).toContain("secret_access_key '***'");
    expect(message).not.toContain("'S3RVER'");
    expect(message).not.toContain('\n');
    expect((error as Error).cause).toBeUndefined();
    expect((error as CopyLoadError).prefix).toBe('loads/run-31/batch-1/t');
    const explained = (await describeLoadFailure(failing, staging, error)) as Error;
    expect(explained.message).toBe(
      "COPY into s.t failed: column amount, line 3 of s3://staging/loads/run-31/batch-1/t/part-00000.csv.gz: Invalid digit, Value 'a', Pos 0, Type: Decimal (value \"abc\", error 1207); fix the value or the column's type, then run again",
    );
  });
});

describe('COPY statement', () => {
  const staging: S3Staging = { bucket: 'ot-stage', prefix: 'redshift/', region: 'eu-west-1' };
  const two = columns.slice(0, 2);

  it('loads every part under the prefix as gzip CSV with \\N for NULL', () => {
    const sql = copyStatement(
      'analytics',
      'mart_uti',
      two,
      { ...staging, iamRole: 'arn:aws:iam::123456789012:role/Load' },
      'redshift/run-1/batch-2/mart_uti',
    );
    // Redshift reads a backslash in a literal as an escape: the marker it compares with is \N.
    expect(sql).toContain(String.raw`null as '\\N'`);
    expect(
      copyStatement(
        'analytics',
        'mart_uti',
        two,
        { ...staging, iamRole: 'arn:aws:iam::123456789012:role/Load' },
        'redshift/run-1/batch-2/mart_uti',
      ),
    ).toMatchInlineSnapshot(`
      "copy "analytics"."mart_uti" ("id", "code")
        from 's3://ot-stage/redshift/run-1/batch-2/mart_uti/'
        iam_role 'arn:aws:iam::123456789012:role/Load'
        format as csv gzip null as '\\\\N' timeformat 'auto' dateformat 'auto' region 'eu-west-1'
        compupdate off statupdate off"
    `);
  });

  it('with keys, shows them only as *** for display', () => {
    const credentials = {
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
      sessionToken: 'FwoGZXIvYXdzEXAMPLE',
    };
    const sql = copyStatement(
      'analytics',
      'mart_uti',
      two,
      staging,
      'redshift/run-1/batch-2/mart_uti',
      credentials,
    );
    expect(sql).toContain(
      "access_key_id 'AKIAEXAMPLE' secret_access_key 'wJalrXUtnFEMI/K7MDENG' session_token 'FwoGZXIvYXdzEXAMPLE'",
    );
    const shown = copyStatementForDisplay(
      'analytics',
      'mart_uti',
      two,
      staging,
      'redshift/run-1/batch-2/mart_uti',
      credentials,
    );
    expect(shown).toContain("access_key_id '***' secret_access_key '***' session_token '***'");
    for (const secret of Object.values(credentials)) expect(shown).not.toContain(secret);
    expect(() => copyStatement('analytics', 'mart_uti', two, staging, 'p')).toThrow(
      'cannot COPY into analytics.mart_uti: Redshift needs an IAM role or keys to read s3://ot-stage',
    );
  });
});
