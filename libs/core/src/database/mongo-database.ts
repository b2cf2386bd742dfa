import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose, { Connection } from 'mongoose';
import { ServiceUnavailableError } from '../errors/domain-errors';
import { checkMigrations, Migration, pendingMigrations } from './migrations';
import { isDuplicateKeyError, isMongoUnavailableError, mongoGuard, mongoUnavailable } from './mongo-guard';

/**
 * A step of a lib's MongoDB schema: a backfill or a change of data. MongoDB has no transactional
 * DDL, so a step that dies half-way runs again on the next start: write it to be idempotent.
 */
export type MongoMigration = Migration<(connection: Connection) => Promise<void>>;

/** What a lib brings to the database: its models (their indexes are kept in step with their schemas) and its migrations. */
export interface MongoSchema {
  /** The lib, first part of each of its migration ids. */
  readonly lib: string;
  readonly models: readonly IndexedModel[];
  readonly migrations: readonly MongoMigration[];
}

/** The part of a mongoose Model used here (models of every document type fit). */
export interface IndexedModel {
  syncIndexes(): Promise<string[]>;
  readonly collection: { readonly collectionName: string };
}

/** How the connection behaves: fail fast instead of queueing commands; indexes only where we await them. */
const CONNECT_OPTIONS = {
  bufferCommands: false,
  autoIndex: false,
  autoCreate: false,
  serverSelectionTimeoutMS: 5000,
  connectTimeoutMS: 5000,
} as const;

const MIGRATIONS_COLLECTION = 'migrations';
/** The lock document in the migrations collection: one process migrates at a time. */
const LOCK_ID = '#lock';
const LOCK_LEASE_MS = 30_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

interface MigrationRecord {
  _id: string;
  appliedAt?: Date;
  owner?: string;
  expiresAt?: Date;
}

/**
 * The MongoDB connection and its schema. The process starts whether or not MongoDB answers: until
 * it does, and until every lib's migrations and indexes are in place, each operation through
 * `guard` is refused with ServiceUnavailableError (503), and connecting is retried with backoff.
 * Migrations and index builds are awaited at start when MongoDB answers then; one that fails for
 * another reason than an outage (e.g. a unique index over duplicates) stops the process with the
 * server's message, never silently.
 */
export class MongoDatabase implements OnApplicationShutdown {
  readonly connection: Connection;
  private readonly logger = new Logger('MongoDB');
  private readonly owner = randomUUID();
  private readonly connected: Promise<void>;
  /** Set once a connection attempt has failed: start-up goes on and the rest happens in the background. */
  private readonly unreachable: Promise<void>;
  private markUnreachable!: () => void;
  private inBackground = false;
  /** Schemas registered and not yet migrated. */
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly url: string) {
    this.unreachable = new Promise((resolve) => (this.markUnreachable = resolve));
    this.connection = mongoose.createConnection();
    // Open now (synchronously this applies CONNECT_OPTIONS, before any model is made on the connection).
    this.connected = this.connect(this.connection.openUri(url, { ...CONNECT_OPTIONS }));
    this.connected.catch(() => undefined);
  }

  /** Whether every registered lib's schema is in place and operations may run. */
  get ready(): boolean {
    return this.pending === 0 && this.connection.readyState === mongoose.ConnectionStates.connected;
  }

  /**
   * Brings a lib's collections up to date: its pending migrations (in order, once, under a lock
   * shared by every process), then its models' indexes (created, changed or dropped to match the
   * schemas). Resolves when done, or as soon as MongoDB is found unreachable (it then goes on in
   * the background while operations get 503); rejects when a step fails for another reason.
   */
  async migrate(schema: MongoSchema): Promise<void> {
    checkMigrations(schema.lib, schema.migrations);
    this.pending += 1;
    const run = (this.queue = this.queue.then(() => this.untilMigrated(schema)));
    run.then(
      () => (this.pending -= 1),
      (error: unknown) => {
        // In the foreground the caller below sees it and start-up fails; after close nothing matters.
        if (!this.inBackground || this.closed) return;
        this.logger.fatal(`Preparing the MongoDB schema failed: ${(error as Error).message}. Stopping.`);
        process.exit(1);
      },
    );
    await Promise.race([run, this.unreachable]);
  }

  /** Runs an operation once the database is ready, turning outages into ServiceUnavailableError. */
  guard<T>(work: () => Promise<T>): Promise<T> {
    if (!this.ready) return Promise.reject(mongoUnavailable(this.pending > 0 ? 'starting (MongoDB not reachable yet)' : 'not reachable'));
    return mongoGuard(work);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.connection.close();
  }

  /** Waits for the first attempt, then keeps trying with backoff while MongoDB is unreachable. */
  private async connect(first: Promise<unknown>): Promise<void> {
    let attempt = first;
    let delay = RETRY_MIN_MS;
    for (;;) {
      try {
        await attempt;
        if (this.inBackground) this.logger.log('MongoDB answers again.');
        return;
      } catch (error) {
        if (this.closed || !isMongoUnavailableError(error)) throw error;
        this.goBackground(`MongoDB is unreachable (${(error as Error).message}); requests get 503 until it answers`);
        await this.pause(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        attempt = this.connection.openUri(this.url, { ...CONNECT_OPTIONS });
      }
    }
  }

  private goBackground(message: string): void {
    if (!this.inBackground) this.logger.warn(message);
    this.inBackground = true;
    this.markUnreachable();
  }

  private async untilMigrated(schema: MongoSchema): Promise<void> {
    let delay = RETRY_MIN_MS;
    for (;;) {
      await this.connected;
      try {
        await this.withLock(() => this.apply(schema));
        return;
      } catch (error) {
        if (this.closed || !(isMongoUnavailableError(error) || error instanceof ServiceUnavailableError)) throw error;
        this.goBackground(`MongoDB went away while preparing its schema (${(error as Error).message}); trying again`);
        await this.pause(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Waits between attempts without keeping the process alive; stops once the database is closed. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { ref: false });
    if (this.closed) throw new Error('The MongoDB connection was closed');
  }

  private async apply({ lib, models, migrations }: MongoSchema): Promise<void> {
    const records = this.records();
    const known = new Set(migrations.map((migration) => migration.id));
    const applied = new Set((await records.find({ _id: { $ne: LOCK_ID } }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
    for (const migration of pendingMigrations(migrations, applied)) {
      const started = Date.now();
      await migration.up(this.connection);
      await records.insertOne({ _id: migration.id, appliedAt: new Date() });
      this.logger.log(`Applied ${migration.id} (${Date.now() - started} ms)`);
    }
    // Indexes follow the code, unless a newer release has migrated this lib (it owns them now).
    const newer = [...applied].filter((id) => id.startsWith(`${lib}/`) && !known.has(id));
    if (newer.length > 0) {
      this.logger.warn(`Leaving the indexes of ${lib} alone: a newer release applied ${newer.join(', ')}`);
      return;
    }
    for (const model of models) {
      try {
        const dropped = await model.syncIndexes();
        if (dropped.length > 0)
          this.logger.log(`Dropped indexes of ${model.collection.collectionName} no longer defined: ${dropped.join(', ')}`);
      } catch (error) {
        if (isMongoUnavailableError(error)) throw error;
        const duplicates = isDuplicateKeyError(error)
          ? ' (documents already break a unique index: resolve the duplicates, then start again)'
          : '';
        throw new Error(`Cannot build the indexes of ${model.collection.collectionName}${duplicates}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }

  /** Holds the migrations lock (a lease, renewed while held) around `work`; waits while another process holds it. */
  private async withLock(work: () => Promise<void>): Promise<void> {
    const records = this.records();
    while (!(await this.tryLock())) await sleep(500);
    const renew = setInterval(() => {
      records
        .updateOne({ _id: LOCK_ID, owner: this.owner }, { $set: { expiresAt: new Date(Date.now() + LOCK_LEASE_MS) } })
        .catch(() => undefined);
    }, LOCK_LEASE_MS / 3);
    try {
      await work();
    } finally {
      clearInterval(renew);
      await records.deleteOne({ _id: LOCK_ID, owner: this.owner }).catch(() => undefined);
    }
  }

  private async tryLock(): Promise<boolean> {
    const now = new Date();
    try {
      // Matches a free (expired) lock or our own; otherwise the upsert collides with the holder's document.
      await this.records().updateOne(
        { _id: LOCK_ID, $or: [{ expiresAt: { $lte: now } }, { owner: this.owner }] },
        { $set: { owner: this.owner, expiresAt: new Date(now.getTime() + LOCK_LEASE_MS) } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  private records() {
    const db = this.connection.db;
    if (!db) throw mongoUnavailable('not connected');
    return db.collection<MigrationRecord>(MIGRATIONS_COLLECTION);
  }
}
