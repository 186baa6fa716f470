/**
 * No password is ever printed (SPEC §1): `redact` splits a URL where pg and mysql2 split it (the
 * userinfo up to the last `@`, the user up to its first `:`), so hostile passwords are masked whole.
 */
import { describe, expect, it } from 'vitest';
import { maskIn } from '../../src/config/secrets.js';
import { mysqlPoolOptions } from '../../src/engines/source/mysql/mysql-connect.js';
import { parseSourceUrl, parseWarehouseUrl, redact, secretsOf } from '../../src/config/urls.js';

/** [URL as a user might type it, what is printed]; every secret holds `S3cr3t`. */
const hostile: readonly (readonly [string, string])[] = [
  ['postgres://postgres:p@ssS3cr3tB@127.0.0.1:5432/db', 'postgres://postgres:***@127.0.0.1:5432/db'],
  ['postgres://postgres@corp:S3cr3tY@127.0.0.1:5432/db', 'postgres://postgres@corp:***@127.0.0.1:5432/db'],
  ['mysql://root@corp:S3cr3tX@127.0.0.1:3306/db', 'mysql://root@corp:***@127.0.0.1:3306/db'],
  ['mysql://root:pa/ssS3cr3tO@127.0.0.1:3306/db', 'mysql://root:***@127.0.0.1:3306/db'],
  ['mysql://root:12/S3cr3t@127.0.0.1:3306/db', 'mysql://root:***@127.0.0.1:3306/db'],
  ['mysql://root:pa:ssS3cr3t@db.example:3306/db', 'mysql://root:***@db.example:3306/db'],
  ['postgres://u:p#S3cr3t@db.example/db', 'postgres://u:***@db.example/db'],
  ['postgres://u:12?S3cr3t@db.example/db', 'postgres://u:***@db.example/db'],
  ['postgres://u:p@ss:S3cr3t/x?y#z@db.example:5432/db', 'postgres://u:***@db.example:5432/db'],
  ['postgres://u:p%40S3cr3t%2F@db.example/db', 'postgres://u:***@db.example/db'],
  ['postgres://u:100%S3cr3t@db.example/db', 'postgres://u:***@db.example/db'],
  ['postgres://u:a S3cr3t\n@db.example/db', 'postgres://u:***@db.example/db'],
  ['postgres://us%40er:S3cr3t@db.example/db', 'postgres://us%40er:***@db.example/db'],
  ['postgres://:S3cr3t@db.example/db', 'postgres://:***@db.example/db'],
  ['postgres://u:S3cr3t@[::1]:5432/db', 'postgres://u:***@[::1]:5432/db'],
  ['postgres://u:p@S3cr3t@[2001:db8::1]/db', 'postgres://u:***@[2001:db8::1]/db'],
  ['postgres://u@db.example/db?password=S3cr3t', 'postgres://u@db.example/db?password=***'],
  [
    'postgres://u@db.example/db?sslmode=require&password=S3cr3t&application_name=x',
    'postgres://u@db.example/db?sslmode=require&password=***',
  ],
  ['postgres://u@db.example/db?sslpassword=S3&cr3t', 'postgres://u@db.example/db?sslpassword=***'],
  ['postgres://u@127.0.0.1:5432/db?password=p@S3cr3t', 'postgres://u@127.0.0.1:5432/db?password=***'],
  [
    'postgres://u:p@S3cr3t@127.0.0.1:5432/db?password=p@S3cr3t',
    'postgres://u:***@127.0.0.1:5432/db?password=***',
  ],
  // A password that itself reads `…&password=…`: its first part must not show either.
  ['postgres://u:S3cr3t&password=x@db.example/db', 'postgres://u:***'],
  // An `@` in the query could end a password holding `?`: masked up to it, the host lost.
  ['postgres://u:S3cr3t@db.example/db?application_name=me@corp', 'postgres://u:***@corp'],
  ['mysql:root:S3cr3t@db.example/db', 'mysql:***@db.example/db'],
  ['root:S3cr3t@db.example/db', 'root:***@db.example/db'],
];

/** URLs without a password print as given. */
const harmless = [
  'postgres://postgres@127.0.0.1:5432/db',
  'postgres://[::1]:5432/db',
  'mysql://root@corp@127.0.0.1:3306/db',
  'postgres://u@db.example/db?sslmode=require',
  'duckdb:/home/jo@corp.example/warehouse.duckdb',
  'sqlite:./source.sqlite',
];

/** The password as the driver reads it (pg and mysql2 both take WHATWG's userinfo, then decode). */
const driverPassword = (url: string): string => {
  if (!URL.canParse(url)) return '';
  const raw = new URL(url).password;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
};

describe('redact', () => {
  it.each(hostile)('masks the whole password of %j', (url, printed) => {
    expect(redact(url)).toBe(printed);
    expect(redact(url)).not.toMatch(/S3|cr3t/);
  });

  it.each(harmless)('prints %j as given', (url) => {
    expect(redact(url)).toBe(url);
    expect(secretsOf(url)).toEqual([]);
  });

  it.each(hostile)('knows every form of the password of %j, so a message echoing it is masked', (url) => {
    const echoed = `login failed for ${url} with ${driverPassword(url)}`;
    expect(maskIn(echoed, secretsOf(url))).not.toMatch(/S3cr3t/);
  });
});

describe('a URL that does not parse as meant', () => {
  it.each([
    ['mysql://root:pa/ssS3cr3tO@127.0.0.1:3306/db', /is not a valid URL: special characters .*\(\/ as %2F/],
    ['mysql://root:p#S3cr3t@127.0.0.1:3306/db', /is not a valid URL: .*# as %23/],
    ['mysql://root:12/S3cr3t@127.0.0.1:3306/db', /names no database: special characters .* @ as %40/],
  ])('names what to percent-encode in %j and never echoes it', (url, message) => {
    expect(() => parseSourceUrl(url)).toThrow(message);
    expect(() => parseSourceUrl(url)).not.toThrow(/S3cr3t/);
    const asWarehouse = url.replace(/^mysql:/, 'postgres:');
    expect(() => parseWarehouseUrl(asWarehouse)).toThrow(/percent-encoded/);
    expect(() => parseWarehouseUrl(asWarehouse)).not.toThrow(/S3cr3t/);
  });

  it('says what a URL without credentials should look like', () => {
    expect(() => parseSourceUrl('mysql://db.example:port/db')).toThrow(
      /is not a valid URL: expected mysql:\/\/user:password@host:port\/db/,
    );
  });
});

describe('MySQL pool options', () => {
  it('take the user and password where the driver splits, a stray % as written', () => {
    const options = mysqlPoolOptions('mysql://root@corp:p@ss:100%zz@127.0.0.1:3306/db');
    expect(options).toMatchObject({ host: '127.0.0.1', user: 'root@corp', password: 'p@ss:100%zz' });
  });
});

describe('maskIn', () => {
  it('leaves secrets shorter than three characters alone, so ordinary output stays readable', () => {
    expect(maskIn('12 rows in 12 s', ['12'])).toBe('12 rows in 12 s');
    expect(maskIn('password p@ss and p@ss', ['p@ss'])).toBe('password *** and ***');
  });
});
