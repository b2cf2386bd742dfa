/**
 * Versioned schema migrations, shared by the SQLite and MongoDB adapters.
 *
 * Each lib owns its tables (collections) and its list of migrations. A migration id is
 * `<lib>/<NNNN>-<what>` (`jobs/0002-job-media-fields`): the lib's name, then a four-digit number
 * that only grows within that lib, then a few words. A lib's migrations run in that order, each
 * once per database, recorded by id (SQLite: table `schema_migrations`; MongoDB: collection
 * `migrations`). Libs are independent of each other; a lib whose tables refer to another lib's
 * imports that lib's module, so the other's migrations have run first. A released migration is
 * never edited: change the schema with a new one. See docs/architecture.md, "Migrations".
 */
export interface Migration<Up> {
  readonly id: string;
  readonly up: Up;
}

const MIGRATION_ID = /^([a-z][a-z0-9-]*)\/(\d{4})-[a-z0-9][a-z0-9-]*$/;

/**
 * Checks a lib's list before anything runs: well-formed ids of that lib, numbers strictly
 * increasing. A mistake here is a programming error, reported at start.
 */
export function checkMigrations(lib: string, migrations: readonly Migration<unknown>[]): void {
  let previous = 0;
  for (const { id } of migrations) {
    const match = MIGRATION_ID.exec(id);
    if (!match) throw new Error(`Migration id "${id}" is not <lib>/<NNNN>-<name> (e.g. jobs/0002-renditions)`);
    if (match[1] !== lib) throw new Error(`Migration "${id}" is listed with the migrations of "${lib}"`);
    const number = Number(match[2]);
    if (number <= previous) throw new Error(`Migration "${id}" must come after a lower number of its lib, in order`);
    previous = number;
  }
}

/** The migrations of `migrations` not in `applied`, in their order. */
export function pendingMigrations<M extends Migration<unknown>>(migrations: readonly M[], applied: ReadonlySet<string>): M[] {
  return migrations.filter((migration) => !applied.has(migration.id));
}
