import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteDatabase, SqliteMigration } from './sqlite-database';

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
