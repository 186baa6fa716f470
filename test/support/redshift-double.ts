/**
 * A Redshift test double: a PostgreSQL wire-protocol proxy on 127.0.0.1 in front of a real
 * PostgreSQL. It rewrites what PostgreSQL cannot parse (Redshift's table attributes, IDENTITY,
 * LISTAGG, GETDATE, VACUUM's options, COPY from S3) and enforces what PostgreSQL would let slide
 * (RETURNING, DISTINCT ON, ON CONFLICT, sequences, indexes, advisory locks, VARCHAR in bytes,
 * unenforced keys, TRUNCATE committing, the 16 MiB statement limit). The rules are in
 * `redshift-double-sql.ts`; this file carries the protocol, the S3 COPY and the system views.
 *
 * A refusal is raised by the server itself (`ot_redshift_double.refuse`), so the session's
 * transaction state stays authentic: a refused statement aborts the transaction it is in.
 * Server messages pass through untouched, except the answers to statements the double sends on
 * its own (the commit before a TRUNCATE, the COPY FROM STDIN behind an S3 COPY).
 */
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import {
  copyFromStdinSql,
  csvRecordStarts,
  DOUBLE_SCHEMA,
  lex,
  loadErrorCode,
  maxParameter,
  parseCopyContext,
  planSql,
  refusalSql,
  serializationMessage,
  type Plan,
  type S3Copy,
} from './redshift-double-sql.js';

export interface RedshiftDouble {
  readonly port: number;
  /** `redshift://postgres@127.0.0.1:<port>/<database>` */
  url(database: string): string;
  /** The next `times` statements matching `pattern` fail with Redshift's error 1023. */
  injectSerializationError(pattern: RegExp, times?: number): void;
  /** Every SQL text received (before rewrite), in order, for tests that assert what was sent. */
  readonly received: readonly string[];
  /** The client session (numbered from 1 as they connect) that sent each of `received`. */
  readonly sessions: readonly number[];
  /** Refusals so far: { sql, message }. */
  readonly refused: readonly { sql: string; message: string }[];
  close(): Promise<void>;
}

export interface RedshiftDoubleOptions {
  /** The PostgreSQL to proxy; default 127.0.0.1:5432. */
  readonly target?: { readonly host: string; readonly port: number };
  /** The S3 that COPY … FROM 's3://…' reads (s3rver); without it every S3 COPY is refused. */
  readonly s3?: {
    readonly endpoint: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly region?: string;
  };
}

// ---------------------------------------------------------------------------------------------
// Wire protocol (https://www.postgresql.org/docs/15/protocol-message-formats.html)

interface Message {
  /** The type byte as a character; '' for a startup-phase message (no type byte). */
  readonly type: string;
  /** The payload after the length. */
  readonly body: Buffer;
  /** The whole message as received. */
  readonly raw: Buffer;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** Splits a byte stream into messages; `startup` while the next message has no type byte. */
class MessageReader {
  private pending: Buffer = Buffer.alloc(0);
  constructor(public startup: boolean) {}
  feed(chunk: Buffer): Message[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Message[] = [];
    for (;;) {
      const head = this.startup ? 0 : 1;
      if (this.pending.length < head + 4) break;
      const length = this.pending.readInt32BE(head);
      const total = head + length;
      if (this.pending.length < total) break;
      const raw = this.pending.subarray(0, total);
      this.pending = this.pending.subarray(total);
      const message = {
        type: this.startup ? '' : String.fromCharCode(raw[0] as number),
        body: raw.subarray(head + 4),
        raw,
      };
      out.push(message);
      if (this.startup) {
        const code = message.body.length >= 4 ? message.body.readInt32BE(0) : 0;
        // After an SSL or GSS request the client sends another startup message.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.startup = false;
      }
    }
    return out;
  }
}

const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

const cstring = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

const readCString = (buf: Buffer, offset: number): [string, number] => {
  const end = buf.indexOf(0, offset);
  return [buf.toString('utf8', offset, end), end + 1];
};

const queryMessage = (sql: string): Buffer => message('Q', cstring(sql));

/** ErrorResponse / NoticeResponse fields by code letter (M message, C SQLSTATE, W context…). */
type Fields = Map<string, string>;

const readFields = (body: Buffer): Fields => {
  const fields: Fields = new Map();
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const code = String.fromCharCode(body[offset] as number);
    const [value, next] = readCString(body, offset + 1);
    fields.set(code, value);
    offset = next;
  }
  return fields;
};

const errorMessage = (fields: Fields): Buffer =>
  message(
    'E',
    Buffer.concat([
      ...[...fields].map(([code, value]) => Buffer.concat([Buffer.from(code, 'latin1'), cstring(value)])),
      Buffer.from([0]),
    ]),
  );

/** A client's error as Redshift raises it (SQLSTATE XX000). */
const redshiftError = (text: string, detail?: string): Buffer =>
  errorMessage(
    new Map([
      ['S', 'ERROR'],
      ['V', 'ERROR'],
      ['C', 'XX000'],
      ['M', text],
      ...(detail === undefined ? [] : ([['D', detail]] as [string, string][])),
    ]),
  );

// ---------------------------------------------------------------------------------------------
// One client session

/** Who receives the server's messages up to the next ReadyForQuery. */
interface Owner {
  onMessage(m: Message): void | Promise<void>;
}

interface DoubleState {
  readonly options: RedshiftDoubleOptions;
  readonly target: { readonly host: string; readonly port: number };
  readonly received: string[];
  readonly sessions: number[];
  nextSession: number;
  readonly refused: { sql: string; message: string }[];
  readonly injections: { pattern: RegExp; times: number }[];
  nextQueryId: number;
}

/** A part of an S3 COPY: its object and the CSV records it holds. */
interface Part {
  readonly url: string;
  readonly data: Buffer;
  readonly records: number;
}

class Session {
  private readonly upstream: net.Socket;
  private readonly fromClient = new MessageReader(true);
  private readonly fromServer = new MessageReader(false);
  private readonly owners: Owner[] = [];
  private readonly out: Buffer[] = [];
  private clientWork: Promise<void> = Promise.resolve();
  private serverWork: Promise<void> = Promise.resolve();
  private status = 'I';
  private pid = 0;
  private user = 'postgres';
  private database = 'postgres';
  private readonly session: number;

  constructor(
    private readonly client: net.Socket,
    private readonly state: DoubleState,
  ) {
    this.session = state.nextSession++;
    this.upstream = net.connect(state.target.port, state.target.host);
    for (const s of [client, this.upstream]) {
      s.setNoDelay(true);
      // The other side going away ends the session; never an unhandled error here.
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      const messages = this.fromClient.feed(chunk);
      this.clientWork = this.clientWork
        .then(() => this.fromClientMessages(messages))
        .catch((e) => this.fail(e));
    });
    this.upstream.on('data', (chunk: Buffer) => {
      const messages = this.fromServer.feed(chunk);
      this.serverWork = this.serverWork
        .then(() => this.fromServerMessages(messages))
        .catch((e) => this.fail(e));
    });
    client.on('close', () => this.upstream.destroy());
    this.upstream.on('close', () => client.destroy());
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private fail(e: unknown): void {
    // A bug in the double: tell the client plainly rather than hang it.
    this.client.end(
      redshiftError(`Redshift test double failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    this.upstream.destroy();
  }

  private flush(): void {
    if (this.out.length === 0) return;
    this.client.write(this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out));
    this.out.length = 0;
  }

  private async fromServerMessages(messages: Message[]): Promise<void> {
    for (const m of messages) {
      if (m.type === 'Z') this.status = String.fromCharCode(m.body[0] as number);
      if (m.type === 'K') this.pid = m.body.readInt32BE(0);
      const owner = this.owners[0];
      if (owner === undefined) this.out.push(m.raw);
      else {
        const pending = owner.onMessage(m);
        if (pending) {
          this.flush();
          await pending;
        }
      }
      if (m.type === 'Z') this.owners.shift();
    }
    this.flush();
  }

  /** The client's own statement: the server's answers go to the client as they are. */
  private readonly passThrough: Owner = { onMessage: (m) => void this.out.push(m.raw) };

  /** Sends a statement of the double's own whose answers the client must not see. */
  private sendSilently(sql: string): void {
    this.owners.push({ onMessage: () => undefined });
    this.upstream.write(queryMessage(sql));
  }

  private async fromClientMessages(messages: Message[]): Promise<void> {
    for (const m of messages) {
      if (m.type === '') this.startupMessage(m);
      else if (m.type === 'Q') {
        const [sql] = readCString(m.body, 0);
        const plan = this.plan(sql);
        if (plan.kind === 's3copy') await this.s3Copy(plan.copy);
        else this.forward(plan, queryMessage, true);
      } else if (m.type === 'P') {
        const [name, afterName] = readCString(m.body, 0);
        const [sql, afterQuery] = readCString(m.body, afterName);
        const types = m.body.subarray(afterQuery);
        let plan = this.plan(sql);
        if (plan.kind === 's3copy') {
          const text = 'The Redshift test double runs a COPY from S3 only as a simple query (no parameters)';
          plan = { kind: 'refuse', message: text, sql: refusalSql(text, 0) };
        }
        this.forward(
          plan,
          (text) => message('P', Buffer.concat([cstring(name), cstring(text), types])),
          false,
        );
      } else {
        if (m.type === 'S') this.owners.push(this.passThrough);
        this.upstream.write(m.raw);
      }
    }
  }

  private startupMessage(m: Message): void {
    const code = m.body.length >= 4 ? m.body.readInt32BE(0) : 0;
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.client.write('N');
      return;
    }
    if (code !== CANCEL_REQUEST) {
      const parts = m.body.toString('utf8', 4).split('\0');
      for (let i = 0; i + 1 < parts.length; i += 2) {
        if (parts[i] === 'user') this.user = parts[i + 1] as string;
        if (parts[i] === 'database') this.database = parts[i + 1] as string;
      }
      if (!parts.includes('database')) this.database = this.user;
    }
    this.upstream.write(m.raw);
  }

  private plan(sql: string): Plan {
    this.state.received.push(sql);
    this.state.sessions.push(this.session);
    const injection = this.state.injections.find((i) => i.times > 0 && i.pattern.test(sql));
    let plan: Plan;
    if (injection) {
      injection.times--;
      // https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html (error 1023)
      const text = serializationMessage(this.pid);
      plan = { kind: 'refuse', message: text, sql: refusalSql(text, maxParameter(lex(sql))) };
    } else plan = planSql(sql, { inTransaction: this.status === 'T' });
    if (plan.kind === 'refuse') this.state.refused.push({ sql, message: plan.message });
    return plan;
  }

  /** Sends the planned SQL as a Query (`query`: the client owns its answers) or a Parse (its Sync will). */
  private forward(
    plan: Exclude<Plan, { kind: 's3copy' }>,
    wrap: (sql: string) => Buffer,
    query: boolean,
  ): void {
    if (plan.kind === 'forward' && plan.commitFirst) this.sendSilently('commit');
    if (query) this.owners.push(this.passThrough);
    this.upstream.write(wrap(plan.sql));
  }

  // -------------------------------------------------------------------------------------------
  // COPY from S3 (https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html)

  /** Fails the client's COPY through the server, as any refusal. */
  private refuseCopy(text: string): void {
    this.state.refused.push({ sql: this.state.received.at(-1) ?? '', message: text });
    this.owners.push(this.passThrough);
    this.upstream.write(queryMessage(refusalSql(text, 0)));
  }

  private async s3Copy(copy: S3Copy): Promise<void> {
    const s3 = this.state.options.s3;
    if (!s3) return this.refuseCopy('The Redshift test double was started without an S3 endpoint');
    if (copy.accessKeyId !== undefined && copy.accessKeyId !== s3.accessKeyId)
      return this.refuseCopy(
        'S3ServiceException:The AWS Access Key Id you provided does not exist in our records.,Status 403,Error InvalidAccessKeyId',
      );
    if (copy.secretAccessKey !== undefined && copy.secretAccessKey !== s3.secretAccessKey)
      return this.refuseCopy(
        'S3ServiceException:The request signature we calculated does not match the signature you provided. Check your key and signing method.,Status 403,Error SignatureDoesNotMatch',
      );
    let parts: Part[];
    try {
      parts = await readParts(s3, copy);
    } catch (e) {
      return this.refuseCopy(e instanceof Error ? e.message : String(e));
    }
    if (parts.length === 0) return this.refuseCopy(`The specified S3 prefix '${copy.prefix}' does not exist`);
    const queryId = this.state.nextQueryId++;
    let failure: Fields | null = null;
    let logged: Promise<string | null> = Promise.resolve(null);
    let loaded = 0;
    this.owners.push({
      onMessage: (m) => {
        if (m.type === 'G') {
          for (const part of parts)
            for (let at = 0; at < part.data.length; at += 1 << 16)
              this.upstream.write(message('d', part.data.subarray(at, at + (1 << 16))));
          this.upstream.write(message('c', Buffer.alloc(0)));
        } else if (m.type === 'E') {
          const fields = readFields(m.body);
          failure = fields;
          logged = this.logLoadError(copy, parts, fields, queryId);
        } else if (m.type === 'Z') {
          const recorded = this.onLogConnection((log) =>
            log.query(
              `insert into ${DOUBLE_SCHEMA}.last_copy (pid, query, loaded) values ($1, $2, $3)
               on conflict (pid) do update set query = excluded.query, loaded = excluded.loaded`,
              [this.pid, queryId, loaded],
            ),
          );
          return Promise.all([logged, recorded]).then(([table]) => {
            if (failure) this.out.push(loadFailure(table, failure));
            this.out.push(m.raw);
          });
        } else {
          if (m.type === 'C') loaded = Number(/^COPY (\d+)/.exec(readCString(m.body, 0)[0])?.[1] ?? 0);
          this.out.push(m.raw);
        }
      },
    });
    this.upstream.write(queryMessage(copyFromStdinSql(copy)));
  }

  /**
   * Writes the rejected row to stl_load_errors on a connection of its own (Redshift's system log
   * survives the load's rollback). Resolves to the table's name for the client's message, or null
   * when the error is no row's (a missing table, say): the client then sees PostgreSQL's error.
   */
  private async logLoadError(
    copy: S3Copy,
    parts: readonly Part[],
    fields: Fields,
    queryId: number,
  ): Promise<string | null> {
    const context = parseCopyContext(fields.get('W') ?? '');
    if (!context) return null;
    let line = context.line;
    let part = parts[0] as Part;
    for (const p of parts) {
      part = p;
      if (line <= p.records) break;
      line -= p.records;
    }
    const starts = csvRecordStarts(part.data, copy.quote);
    const start = starts[line - 1] ?? { offset: 0, line };
    const end = starts[line]?.offset ?? part.data.length;
    const rawLine = part.data.toString('utf8', start.offset, end).replace(/\r?\n$/, '');
    const constraint = /^rs_varchar_\d+_bytes_(.+)$/.exec(fields.get('n') ?? '');
    const column = context.column ?? fields.get('c') ?? constraint?.[1] ?? '';
    const table = copy.table.replace(/"/g, '');
    await this.onLogConnection((log) =>
      log.query(
        `insert into public.stl_load_errors
           (query, session, tbl, filename, line_number, colname, type, raw_line, raw_field_value, err_code, err_reason)
         values ($1, $2, to_regclass($10)::oid::bigint::int, $3, $4, $5::text,
                 (select left(format_type(a.atttypid, a.atttypmod), 10) from pg_attribute a
                   where a.attrelid = to_regclass($10) and a.attname = $5::text),
                 $6, $7, $8, $9)`,
        [
          queryId,
          this.pid,
          part.url.slice(0, 256),
          start.line,
          column.slice(0, 127),
          // Redshift replaces a multibyte character of raw_line by a period.
          rawLine.replace(/[^ -~\t]/g, '.').slice(0, 1024),
          (context.value ?? '').slice(0, 1024),
          loadErrorCode(fields.get('C') ?? ''),
          (fields.get('M') ?? '').slice(0, 100),
          copy.table,
        ],
      ),
    );
    return table;
  }

  /**
   * Runs `work` on a connection of its own to the session's database: what it writes survives
   * the session's rollback, as Redshift's system logs do.
   */
  private async onLogConnection(work: (log: pg.Client) => Promise<unknown>): Promise<void> {
    const log = new pg.Client({
      host: this.state.target.host,
      port: this.state.target.port,
      user: this.user,
      database: this.database,
    });
    try {
      await log.connect();
      await work(log);
    } finally {
      await log.end().catch(() => undefined);
    }
  }
}

/** Redshift's error for a load that rejected a row. */
const loadFailure = (table: string | null, fields: Fields): Buffer =>
  table === null
    ? errorMessage(fields)
    : redshiftError(
        `Load into table '${table.split('.').at(-1) ?? table}' failed.  Check 'stl_load_errors' system table for details.`,
        `${fields.get('M') ?? ''} (${fields.get('W') ?? ''})`,
      );

/** The objects under the COPY's prefix, in key order, gunzipped if asked, each ending with a newline. */
const readParts = async (s3: NonNullable<RedshiftDoubleOptions['s3']>, copy: S3Copy): Promise<Part[]> => {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new ListObjectsV2Command({ Bucket: copy.bucket, Prefix: copy.prefix, ContinuationToken: token }),
        );
      } catch (e) {
        if (e instanceof Error && e.name === 'NoSuchBucket')
          throw new Error(
            `S3ServiceException:The specified bucket does not exist,Status 404,Error NoSuchBucket,Bucket ${copy.bucket}`,
            {
              cause: e,
            },
          );
        throw e;
      }
      for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const parts: Part[] = [];
    for (const key of keys.sort()) {
      const object = await client.send(new GetObjectCommand({ Bucket: copy.bucket, Key: key }));
      let data = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      const url = `s3://${copy.bucket}/${key}`;
      if (copy.gzip) {
        try {
          data = gunzipSync(data);
        } catch (e) {
          throw new Error(`gzip: ${url}: not in gzip format (COPY … GZIP)`, { cause: e });
        }
      }
      if (copy.ignoreHeader > 0) {
        const starts = csvRecordStarts(data, copy.quote);
        data = data.subarray(starts[copy.ignoreHeader]?.offset ?? data.length);
      }
      if (data.length > 0 && data[data.length - 1] !== 10) data = Buffer.concat([data, Buffer.from('\n')]);
      parts.push({ url, data, records: csvRecordStarts(data, copy.quote).length });
    }
    return parts;
  } finally {
    client.destroy();
  }
};

// ---------------------------------------------------------------------------------------------
// The server

export const startRedshiftDouble = async (options: RedshiftDoubleOptions = {}): Promise<RedshiftDouble> => {
  const state: DoubleState = {
    options,
    target: options.target ?? { host: '127.0.0.1', port: 5432 },
    received: [],
    sessions: [],
    nextSession: 1,
    refused: [],
    injections: [],
    nextQueryId: 1,
  };
  const sessions = new Set<Session>();
  const server = net.createServer((socket) => {
    const session = new Session(socket, state);
    sessions.add(session);
    socket.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (database) => `redshift://postgres@127.0.0.1:${port}/${database}`,
    injectSerializationError(pattern, times = 1) {
      state.injections.push({ pattern, times });
    },
    received: state.received,
    sessions: state.sessions,
    refused: state.refused,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

// ---------------------------------------------------------------------------------------------
// What the double installs in each database

/**
 * Installs, directly on PostgreSQL, what the double needs in a database before the engine
 * connects: the `ot_redshift_double.refuse` function, an override table for `svv_table_info`
 * (`ot_redshift_double.table_info`: a test sets a table's `unsorted` and `stats_off`), and
 * emulations of the Redshift system tables and views the engine reads, in `public` (Redshift
 * keeps them in pg_catalog; both are on the default search_path).
 */
export const prepareRedshiftDouble = async (postgresUrl: string): Promise<void> => {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(prepareSql);
  } finally {
    await client.end();
  }
};

const schema = DOUBLE_SCHEMA;

const prepareSql = `
create schema if not exists ${schema};

create or replace function ${schema}.refuse(message text, args text[] default null) returns void
language plpgsql as $$
begin
  raise exception using message = message, errcode = 'XX000';
end
$$;

create table if not exists ${schema}.table_info (
  "schema" text not null,
  "table" text not null,
  unsorted numeric(5, 2),
  stats_off numeric(5, 2),
  primary key ("schema", "table")
);

-- Exact counts rather than pg_stat's (which lag): tests read the estimate right after a load.
create or replace function ${schema}.row_count(t regclass) returns bigint
language plpgsql stable as $$
declare n bigint;
begin
  execute format('select count(*) from %s', t) into n;
  return n;
end
$$;

-- The last COPY of each session, written by the double on a connection of its own (it survives
-- the session's rollback): https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_COUNT.html
-- and https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html
create table if not exists ${schema}.last_copy (pid int primary key, query int not null, loaded bigint not null);

create or replace function public.pg_last_copy_count() returns bigint
language sql stable as $$
  select coalesce((select loaded from ${schema}.last_copy where pid = pg_backend_pid()), 0)
$$;

create or replace function public.pg_last_copy_id() returns int
language sql stable as $$
  select coalesce((select query from ${schema}.last_copy where pid = pg_backend_pid()), -1)
$$;

-- https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_TABLE_INFO.html (only tables holding rows)
create or replace view public.svv_table_info as
select "database", table_id, "schema", "table", unsorted, stats_off, tbl_rows, estimated_visible_rows
  from (select current_database()::text as "database",
               c.oid::bigint as table_id,
               n.nspname::text as "schema",
               c.relname::text as "table",
               coalesce(o.unsorted, 0)::numeric(5, 2) as unsorted,
               coalesce(o.stats_off, 0)::numeric(5, 2) as stats_off,
               (${schema}.row_count(c.oid) + coalesce(s.n_dead_tup, 0))::bigint as tbl_rows,
               ${schema}.row_count(c.oid)::bigint as estimated_visible_rows
          from pg_class c
          join pg_namespace n on n.oid = c.relnamespace
          left join pg_stat_user_tables s on s.relid = c.oid
          left join ${schema}.table_info o on o."schema" = n.nspname and o."table" = c.relname
         where c.relkind = 'r'
           and n.nspname not in ('pg_catalog', 'information_schema', '${schema}')
           and n.nspname not like 'pg_toast%'
           and n.nspname not like 'pg_temp%'
           and c.relname <> 'stl_load_errors') t
 where tbl_rows > 0;

-- https://docs.aws.amazon.com/redshift/latest/dg/r_STV_SESSIONS.html
create or replace view public.stv_sessions as
select pid::int as process,
       (backend_start at time zone 'UTC')::timestamp as starttime,
       usename::varchar as user_name,
       datname::varchar as db_name
  from pg_stat_activity
 where backend_type = 'client backend';

-- https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html (character(n) as there: blank-padded)
create table if not exists public.stl_load_errors (
  userid int default 100,
  slice int default 0,
  tbl int,
  starttime timestamp default (now() at time zone 'UTC'),
  session int,
  query int,
  filename character(256),
  line_number bigint,
  colname character(127),
  type character(10),
  col_length character(10),
  position int default 0,
  raw_line character(1024),
  raw_field_value character(1024),
  err_code int,
  err_reason character(100)
);
`;
