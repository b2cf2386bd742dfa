import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ServiceUnavailableError } from '../errors/domain-errors';
import { SQLITE_FILE_MODE, SqliteDatabase, SqliteMigration } from './sqlite-database';

describe('SqliteDatabase.migrate', () => {
  let dir: string;
  let database: SqliteDatabase;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-migrate-'));
    database = new SqliteDatabase(path.join(dir, 'm.db'));
  });

  afterEach(() => {
    database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const columns = (table: string) => (database.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

  const base: SqliteMigration[] = [
    { id: 'things/0001-things', up: 'CREATE TABLE things (id TEXT PRIMARY KEY, name TEXT NOT NULL)' },
    { id: 'things/0003-colour', up: "ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'red'" },
  ];

  it('applies pending migrations once, in order, and records each', () => {
    expect(database.migrate('things', base)).toEqual(['things/0001-things', 'things/0003-colour']);
    expect(columns('things')).toEqual(['id', 'name', 'colour']);
    expect(database.migrate('things', base)).toEqual([]);
    const next: SqliteMigration[] = [
      ...base,
      {
        id: 'things/0004-backfill',
        up: (db) => db.prepare("UPDATE things SET colour = 'blue' WHERE name = 'sky'").run(),
      },
    ];
    database.db.prepare("INSERT INTO things (id, name) VALUES ('1', 'sky'), ('2', 'rose')").run();
    expect(database.migrate('things', next)).toEqual(['things/0004-backfill']);
    expect(database.db.prepare('SELECT name, colour FROM things ORDER BY id').all()).toEqual([
      { name: 'sky', colour: 'blue' },
      { name: 'rose', colour: 'red' },
    ]);
    expect([...database.appliedMigrations()].sort()).toEqual(['things/0001-things', 'things/0003-colour', 'things/0004-backfill']);
  });

  it('keeps each lib’s migrations apart', () => {
    database.migrate('things', base);
    expect(database.migrate('others', [{ id: 'others/0001-others', up: 'CREATE TABLE others (id TEXT)' }])).toEqual(['others/0001-others']);
    expect(database.migrate('things', base)).toEqual([]);
  });

  it('rolls back every migration of a run when one fails, and records none of them', () => {
    database.migrate('things', base.slice(0, 1));
    const broken: SqliteMigration[] = [...base, { id: 'things/0004-broken', up: 'ALTER TABLE no_such_table ADD COLUMN x TEXT' }];
    expect(() => database.migrate('things', broken)).toThrow(/no such table/);
    expect(columns('things')).toEqual(['id', 'name']);
    expect([...database.appliedMigrations()]).toEqual(['things/0001-things']);
    expect(database.migrate('things', base)).toEqual(['things/0003-colour']);
  });

  it('refuses a malformed list before running anything', () => {
    const bad: SqliteMigration[][] = [
      [{ id: 'things-0001', up: 'SELECT 1' }],
      [{ id: 'things/1-short', up: 'SELECT 1' }],
      [{ id: 'others/0001-x', up: 'SELECT 1' }],
      [
        { id: 'things/0002-b', up: 'SELECT 1' },
        { id: 'things/0001-a', up: 'SELECT 1' },
      ],
      [
        { id: 'things/0001-a', up: 'SELECT 1' },
        { id: 'things/0001-b', up: 'SELECT 1' },
      ],
    ];
    for (const list of bad) expect(() => database.migrate('things', list)).toThrow(/Migration/);
    expect(database.appliedMigrations().size).toBe(0);
  });

  it('leaves alone migrations a newer release applied', () => {
    database.migrate('things', [...base, { id: 'things/0009-newer', up: 'CREATE TABLE newer (id TEXT)' }]);
    expect(database.migrate('things', base)).toEqual([]);
    expect(database.appliedMigrations().has('things/0009-newer')).toBe(true);
  });
});

describe('SqliteDatabase file permissions', () => {
  let dir: string;
  let umask: number;
  /** Permission bits in octal, as ls and chmod show them. */
  const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-modes-'));
    // The usual umask, under which SQLite on its own makes the file 0644.
    umask = process.umask(0o022);
  });

  afterEach(() => {
    process.umask(umask);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a new database 0640, as the stored files are, and so its -wal and -shm after a write', () => {
    expect(SQLITE_FILE_MODE).toBe(0o640);
    const file = path.join(dir, 'sub', 'thumbs.db');
    const database = new SqliteDatabase(file);
    try {
      database.db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a')");
      expect(fs.existsSync(`${file}-wal`)).toBe(true);
      expect({ db: modeOf(file), wal: modeOf(`${file}-wal`), shm: modeOf(`${file}-shm`) }).toEqual({ db: '640', wal: '640', shm: '640' });
      expect(database.db.prepare('SELECT x FROM t').all()).toEqual([{ x: 'a' }]);
    } finally {
      database.close();
    }
  });

  it('takes away from an existing database and its -wal and -shm what other users may do, keeping the data (a group keeps its write)', () => {
    const file = path.join(dir, 'thumbs.db');
    // A database made as before (SQLite's own 0644), still open elsewhere so its -wal and -shm are there.
    const earlier = new Database(file);
    try {
      earlier.pragma('journal_mode = WAL');
      earlier.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('kept')");
      expect(modeOf(file)).toBe('644');
      for (const name of [file, `${file}-wal`]) fs.chmodSync(name, 0o666);
      fs.chmodSync(`${file}-shm`, 0o644);
      const database = new SqliteDatabase(file);
      try {
        expect({ db: modeOf(file), wal: modeOf(`${file}-wal`), shm: modeOf(`${file}-shm`) }).toEqual({ db: '660', wal: '660', shm: '640' });
        expect(database.db.prepare('SELECT x FROM t').all()).toEqual([{ x: 'kept' }]);
      } finally {
        database.close();
      }
    } finally {
      earlier.close();
    }
  });

  it('leaves a database that is already tighter (0600) as it is', () => {
    const file = path.join(dir, 'thumbs.db');
    new SqliteDatabase(file).close();
    fs.chmodSync(file, 0o600);
    const database = new SqliteDatabase(file);
    try {
      database.db.exec('CREATE TABLE t (x TEXT)');
      expect({ db: modeOf(file), wal: modeOf(`${file}-wal`) }).toEqual({ db: '600', wal: '600' });
    } finally {
      database.close();
    }
  });
});

describe('SqliteDatabase while another connection holds the write lock', () => {
  let dir: string;
  let file: string;
  let database: SqliteDatabase;
  let other: Database.Database;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-busy-'));
    file = path.join(dir, 'b.db');
    database = new SqliteDatabase(file);
    database.db.exec('CREATE TABLE things (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    // A second connection to the same file, as the worker process has: it holds the lock between
    // turns of this event loop, so the loop must stay free for it to let go.
    other = new Database(file, { timeout: 0 });
  });

  afterEach(() => {
    if (other.inTransaction) other.prepare('ROLLBACK').run();
    other.close();
    database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Takes the write lock on the other connection and lets go after `ms`. */
  const holdLock = (ms: number) => {
    other.prepare('BEGIN IMMEDIATE').run();
    other.prepare("INSERT INTO things (id, n) VALUES ('other', 0)").run();
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        other.prepare('COMMIT').run();
        resolve();
      }, ms),
    );
    return { released, since: performance.now() };
  };

  /** The longest gap between ticks of a 10 ms interval while `promise` settles. */
  const maxTickGap = async <T>(promise: Promise<T>) => {
    let last = performance.now();
    let max = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      max = Math.max(max, now - last);
      last = now;
    }, 10);
    try {
      const settled = await promise.then(
        (value) => ({ value, error: undefined as unknown }),
        (error: unknown) => ({ value: undefined, error }),
      );
      return { ...settled, maxGap: Math.max(max, performance.now() - last) };
    } finally {
      clearInterval(timer);
    }
  };

  it('waits for the lock off the event loop, and the write then succeeds', async () => {
    const lock = holdLock(1000);
    const { value, error, maxGap } = await maxTickGap(database.execute("INSERT INTO things (id, n) VALUES ('mine', 1)"));
    expect(error).toBeUndefined();
    expect(value).toBe(1);
    // The write went through after the other connection let go, not past it.
    expect(performance.now() - lock.since).toBeGreaterThanOrEqual(900);
    // The lock was held ~1 s; with the old 3 s synchronous busy timeout the loop stopped for all of it.
    expect(maxGap).toBeLessThan(400);
    await lock.released;
    expect(database.db.prepare('SELECT id FROM things ORDER BY id').all()).toEqual([{ id: 'mine' }, { id: 'other' }]);
  });

  it.each([
    ['BEGIN IMMEDIATE: retried until it gets the lock, the work runs once', true],
    ['deferred: the work ran, its first write met the lock, all rolled back and run again', false],
  ])('retries a transaction whole and applies it exactly once (%s)', async (_, immediate) => {
    const lock = holdLock(1000);
    let runs = 0;
    const transaction = database.transaction(
      () => {
        runs++;
        const count = (database.prepare('SELECT COUNT(*) AS n FROM things').get() as { n: number }).n;
        database.prepare('INSERT INTO things (id, n) VALUES (?, ?)').run('a', count);
        database.prepare('INSERT INTO things (id, n) VALUES (?, ?)').run('b', count);
        return count;
      },
      { immediate },
    );
    const { value, error, maxGap } = await maxTickGap(transaction);
    expect(error).toBeUndefined();
    expect(maxGap).toBeLessThan(400);
    // The read that counts ran after the other connection's row was committed.
    expect(value).toBe(1);
    if (immediate) expect(runs).toBe(1);
    else expect(runs).toBeGreaterThanOrEqual(2);
    await lock.released;
    expect(database.db.prepare('SELECT id, n FROM things ORDER BY id').all()).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 1 },
      { id: 'other', n: 0 },
    ]);
  });

  it('answers ServiceUnavailableError after the busy timeout, having applied nothing, without freezing the loop', async () => {
    const impatient = new SqliteDatabase(file, 300);
    try {
      const lock = holdLock(1500);
      const writes = Promise.allSettled([
        impatient.execute("INSERT INTO things (id, n) VALUES ('x', 1)"),
        impatient.transaction(() => {
          impatient.prepare("INSERT INTO things (id, n) VALUES ('y', 1)").run();
          impatient.prepare("INSERT INTO things (id, n) VALUES ('z', 1)").run();
        }),
        impatient.ping(100),
      ]);
      const { value, maxGap } = await maxTickGap(writes);
      for (const outcome of value!) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailableError);
      }
      expect(performance.now() - lock.since).toBeLessThan(1400);
      expect(maxGap).toBeLessThan(400);
      expect(impatient.db.inTransaction).toBe(false);
      await lock.released;
      expect(database.db.prepare('SELECT id FROM things ORDER BY id').all()).toEqual([{ id: 'other' }]);
      await impatient.ping();
    } finally {
      impatient.close();
    }
  });

  it('keeps the order of the calls: none overtakes one that waits for the lock, not even once the lock is free', async () => {
    const lock = holdLock(200);
    const first = database.execute("INSERT INTO things (id, n) VALUES ('a', 1)");
    // Made while the insert waits: a read, which WAL would let through at once (it needs no lock)…
    const read = database.all<{ id: string }>('SELECT id FROM things ORDER BY rowid');
    // …and a write made the moment the other connection lets go, before the insert's next try.
    const later = lock.released.then(() => database.execute("INSERT INTO things (id, n) VALUES ('b', 2)"));
    await expect(first).resolves.toBe(1);
    await expect(later).resolves.toBe(1);
    // The read ran after the insert made before it, and the later insert after both.
    await expect(read).resolves.toEqual([{ id: 'other' }, { id: 'a' }]);
    expect(database.db.prepare('SELECT id FROM things ORDER BY rowid').all()).toEqual([{ id: 'other' }, { id: 'a' }, { id: 'b' }]);
  });

  it('a call behind one that waits leaves the line when its own time is up, without running; the line goes on', async () => {
    const lock = holdLock(400);
    const write = database.execute("INSERT INTO things (id, n) VALUES ('a', 1)");
    const ping = database.ping(100);
    const read = database.all<{ id: string }>('SELECT id FROM things ORDER BY rowid');
    const { error, maxGap } = await maxTickGap(ping);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    // It gave up at its own 100 ms, long before the lock was free.
    expect(performance.now() - lock.since).toBeLessThan(350);
    expect(maxGap).toBeLessThan(200);
    await expect(write).resolves.toBe(1);
    await expect(read).resolves.toEqual([{ id: 'other' }, { id: 'a' }]);
  });

  it('does not retry what is not a lock conflict', async () => {
    // Compared by message: better-sqlite3's SqliteError is not always an Error of the test's realm under Jest.
    const failure = await database.execute("INSERT INTO no_such_table (id) VALUES ('x')").then(
      () => null,
      (error: unknown) => error as { message?: string; code?: string },
    );
    expect(failure?.message).toMatch(/no such table/);
    expect(failure?.code).toBe('SQLITE_ERROR');
  });
});

describe('SqliteDatabase.get of a statement that writes', () => {
  let dir: string;
  let database: SqliteDatabase;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-returning-'));
    database = new SqliteDatabase(path.join(dir, 'r.db'));
    // A deferred constraint fails at commit, after the statement gave its row: as a full disk does.
    database.db.exec(`
      CREATE TABLE owners (id TEXT PRIMARY KEY);
      CREATE TABLE things (id TEXT PRIMARY KEY, owner TEXT REFERENCES owners (id) DEFERRABLE INITIALLY DEFERRED, n INTEGER NOT NULL);
      INSERT INTO owners VALUES ('o');
      INSERT INTO things VALUES ('t', 'o', 1);
    `);
  });

  afterEach(() => {
    database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a commit that fails (it answered the changed row while the change was rolled back)', async () => {
    await expect(database.get("UPDATE things SET n = 2, owner = 'gone' WHERE id = 't' RETURNING *")).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_FOREIGNKEY',
    });
    await expect(database.get("DELETE FROM owners WHERE id = 'o' RETURNING *")).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_FOREIGNKEY',
    });
    expect(await database.all('SELECT * FROM things')).toEqual([{ id: 't', owner: 'o', n: 1 }]);
    expect(await database.get("UPDATE things SET n = 3 WHERE id = 't' RETURNING n")).toEqual({ n: 3 });
    expect(await database.get("SELECT n FROM things WHERE id = 't'")).toEqual({ n: 3 });
  });
});
