import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { QueryFilter, Model, UpdateQuery } from 'mongoose';
import { MongoDatabase } from '@app/core';
import { FILE_TYPES, JOB_ERROR_CODES, JOB_STATUSES, JobErrorCode, JobStatus, THUMBNAIL_POSITIONS, ThumbnailPosition } from '@app/shared';
import type { Job } from '../job';
import { IDEMPOTENCY_TTL_MS } from '../idempotency/idempotency.records';
import { JobSort, JobsRepository, LibraryCount, ListQuery, nameKeyOf, SORT_DESCENDING, TransitionRequest } from '../jobs.repository';
import { JOBS_MONGO_MIGRATIONS } from './migrations';

@Schema({ collection: 'jobs', versionKey: false })
export class JobDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) userId!: string;
  @Prop({ type: String, required: true }) originalFilename!: string;
  @Prop({ type: String, required: true, enum: FILE_TYPES }) fileType!: Job['fileType'];
  @Prop({ type: String, required: true }) mimeType!: string;
  @Prop({ type: Number, required: true }) fileSize!: number;
  @Prop({ type: String, required: true, enum: JOB_STATUSES }) status!: JobStatus;
  @Prop({ type: String, default: null }) errorMessage!: string | null;
  @Prop({ type: String, default: null, enum: JOB_ERROR_CODES }) errorCode!: JobErrorCode | null;
  @Prop({ type: String, required: true }) originalKey!: string;
  @Prop({ type: String, default: null }) thumbnailKey!: string | null;
  @Prop({ type: String, default: null }) thumbnail2xKey!: string | null;
  @Prop({ type: String, default: null }) previewKey!: string | null;
  @Prop({ type: String, default: null }) animatedPreviewKey!: string | null;
  @Prop({ type: String, default: null }) thumbhash!: string | null;
  @Prop({ type: Number, default: null }) width!: number | null;
  @Prop({ type: Number, default: null }) height!: number | null;
  @Prop({ type: Number, default: null }) durationMs!: number | null;
  @Prop({ type: String, default: null }) contentHash!: string | null;
  @Prop({ type: String, required: true, enum: THUMBNAIL_POSITIONS, default: 'centre' }) position!: ThumbnailPosition;
  @Prop({ type: String, default: null }) claimToken!: string | null;
  @Prop({ type: Number, default: 0 }) attempts!: number;
  @Prop({ type: String, default: null }) requestId!: string | null;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  @Prop({ type: Date, required: true }) updatedAt!: Date;
  @Prop({ type: Date, default: null }) startedAt!: Date | null;
  @Prop({ type: Date, default: null }) completedAt!: Date | null;
  @Prop({ type: Date, default: null }) deletedAt!: Date | null;
  /** The lower-cased name, searched and ordered by (derived from originalFilename; not a field of Job). */
  @Prop({ type: String, default: '' }) nameKey!: string;
}

/** The field each order sorts by (then by _id in the same direction). */
const SORT_FIELDS: Readonly<Record<JobSort, 'createdAt' | 'nameKey' | 'fileSize'>> = {
  newest: 'createdAt',
  oldest: 'createdAt',
  name: 'nameKey',
  size: 'fileSize',
};

export const JobSchema = SchemaFactory.createForClass(JobDocument);
// Listing a user’s jobs newest first, with and without a status filter (ids sort by time), and the sweep’s
// unfinished jobs oldest first. No single-field indexes: these compounds cover every query, and each index costs every write.
JobSchema.index({ userId: 1, _id: -1 });
JobSchema.index({ userId: 1, status: 1, _id: -1 });
// Duplicate detection: a user's jobs by content (partial: jobs from before hashes existed have none).
JobSchema.index({ userId: 1, contentHash: 1 }, { partialFilterExpression: { contentHash: { $type: 'string' } } });
JobSchema.index({ status: 1, _id: 1 });
// The library's orders and filters (deletedAt: null for the library, set for the trash), each ending with the _id tie-break.
JobSchema.index({ userId: 1, deletedAt: 1, createdAt: -1, _id: -1 });
JobSchema.index({ userId: 1, deletedAt: 1, status: 1, createdAt: -1, _id: -1 });
JobSchema.index({ userId: 1, deletedAt: 1, fileType: 1, createdAt: -1, _id: -1 });
JobSchema.index({ userId: 1, deletedAt: 1, nameKey: 1, _id: 1 });
JobSchema.index({ userId: 1, deletedAt: 1, fileSize: -1, _id: -1 });
// The status and type filters under the name and size orders too (newest/oldest have theirs above), so no
// filter under any order sorts in memory or walks past rows it drops (docs/capacity.md; written, not run here).
JobSchema.index({ userId: 1, deletedAt: 1, status: 1, nameKey: 1, _id: 1 });
JobSchema.index({ userId: 1, deletedAt: 1, status: 1, fileSize: -1, _id: -1 });
JobSchema.index({ userId: 1, deletedAt: 1, fileType: 1, nameKey: 1, _id: 1 });
JobSchema.index({ userId: 1, deletedAt: 1, fileType: 1, fileSize: -1, _id: -1 });
// The purge: the oldest in the trash first.
JobSchema.index({ deletedAt: 1 }, { partialFilterExpression: { deletedAt: { $type: 'date' } } });

@Schema({ collection: 'idempotency_keys', versionKey: false })
export class IdempotencyKeyDocument {
  @Prop({ type: String, required: true }) userId!: string;
  @Prop({ type: String, required: true }) key!: string;
  @Prop({ type: String, default: null }) response!: string | null;
  @Prop({ type: Date, required: true, expires: IDEMPOTENCY_TTL_MS / 1000 }) createdAt!: Date;
}

export const IdempotencyKeySchema = SchemaFactory.createForClass(IdempotencyKeyDocument);
IdempotencyKeySchema.index({ userId: 1, key: 1 }, { unique: true });

@Injectable()
export class MongoJobsRepository extends JobsRepository implements OnModuleInit {
  constructor(
    @InjectModel(JobDocument.name) private readonly jobs: Model<JobDocument>,
    @InjectModel(IdempotencyKeyDocument.name) private readonly keys: Model<IdempotencyKeyDocument>,
    private readonly mongo: MongoDatabase,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.mongo.migrate({ lib: 'jobs', models: [this.jobs, this.keys], migrations: JOBS_MONGO_MIGRATIONS });
  }

  async originalBytes(userId: string): Promise<number> {
    return this.mongo.guard(async () => {
      const [row] = await this.jobs
        .aggregate<{ bytes: number }>([{ $match: { userId: { $eq: userId } } }, { $group: { _id: null, bytes: { $sum: '$fileSize' } } }])
        .exec();
      return row?.bytes ?? 0;
    });
  }

  async findByContentHashes(userId: string, hashes: readonly string[]): Promise<Pick<Job, 'id' | 'originalFilename' | 'contentHash'>[]> {
    if (hashes.length === 0) return [];
    return this.mongo.guard(async () =>
      (
        await this.jobs
          .find(
            { userId: { $eq: userId }, deletedAt: null, contentHash: { $in: hashes.map(String) } },
            { _id: 1, originalFilename: 1, contentHash: 1 },
          )
          .sort({ _id: 1 })
          .lean()
          .exec()
      ).map((doc) => ({ id: doc._id, originalFilename: doc.originalFilename, contentHash: doc.contentHash })),
    );
  }

  async insertMany(jobs: Iterable<Job>): Promise<void> {
    await this.mongo.guard(() => this.jobs.insertMany(Array.from(jobs, toDocument), { ordered: true }));
  }

  async findById(id: string): Promise<Job | null> {
    return this.mongo.guard(async () =>
      toJob(
        await this.jobs
          .findOne({ _id: { $eq: id } })
          .lean()
          .exec(),
      ),
    );
  }

  async findOwned(id: string, userId: string): Promise<Job | null> {
    return this.mongo.guard(async () =>
      toJob(
        await this.jobs
          .findOne({ _id: { $eq: id }, userId: { $eq: userId } })
          .lean()
          .exec(),
      ),
    );
  }

  async list(userId: string, query: ListQuery): Promise<Job[]> {
    const filter: QueryFilter<JobDocument> = { userId: { $eq: userId }, deletedAt: query.trashed ? { $ne: null } : { $eq: null } };
    if (query.status) filter.status = { $eq: query.status };
    if (query.type) filter.fileType = { $eq: query.type };
    if (query.search) filter.nameKey = { $regex: escapeRegex(nameKeyOf(query.search)) };
    const sort = query.sort ?? 'newest';
    const field = SORT_FIELDS[sort];
    const descending = SORT_DESCENDING[sort];
    if (query.after) {
      const key = field === 'createdAt' ? new Date(query.after.key) : query.after.key;
      const beyond = descending ? '$lt' : '$gt';
      filter.$or = [{ [field]: { [beyond]: key } }, { [field]: { $eq: key }, _id: { [beyond]: query.after.id } }];
    }
    const order = descending ? -1 : 1;
    return this.mongo.guard(async () =>
      (
        await this.jobs
          .find(filter)
          .sort({ [field]: order, _id: order })
          .limit(query.limit)
          .lean()
          .exec()
      ).map((doc) => toJob(doc)!),
    );
  }

  async transition(id: string, request: TransitionRequest): Promise<Job | null> {
    const { filter, update } = transitionQuery(request);
    return this.mongo.guard(async () =>
      toJob(
        await this.jobs
          .findOneAndUpdate({ ...filter, _id: { $eq: id } }, update, { returnDocument: 'after' })
          .lean()
          .exec(),
      ),
    );
  }

  async transitionMany(ids: readonly string[], request: TransitionRequest): Promise<string[]> {
    if (ids.length === 0) return [];
    const { filter, update } = transitionQuery(request);
    // Each document moves atomically on its own; report which ones did.
    return this.mongo.guard(async () => {
      const moved: string[] = [];
      for (const id of ids) {
        const doc = await this.jobs
          .findOneAndUpdate({ ...filter, _id: { $eq: id } }, update, { returnDocument: 'after', projection: { _id: 1 } })
          .lean()
          .exec();
        if (doc) moved.push(doc._id);
      }
      return moved;
    });
  }

  async deleteOwned(id: string, userId: string): Promise<Job | null> {
    return this.mongo.guard(async () =>
      toJob(
        await this.jobs
          .findOneAndDelete({ _id: { $eq: id }, userId: { $eq: userId } })
          .lean()
          .exec(),
      ),
    );
  }

  async trash(userId: string, ids: readonly string[], at: Date): Promise<string[]> {
    return this.setDeletedAt(userId, ids, { $eq: null }, at);
  }

  async restore(userId: string, ids: readonly string[]): Promise<string[]> {
    return this.setDeletedAt(userId, ids, { $ne: null }, null);
  }

  async findTrashedBefore(cutoff: Date, limit: number): Promise<Job[]> {
    return this.mongo.guard(async () =>
      (
        await this.jobs
          .find({ deletedAt: { $ne: null, $lt: cutoff } })
          .sort({ deletedAt: 1 })
          .limit(limit)
          .lean()
          .exec()
      ).map((doc) => toJob(doc)!),
    );
  }

  async deleteTrashed(id: string, cutoff: Date): Promise<Job | null> {
    return this.mongo.guard(async () =>
      toJob(
        await this.jobs
          .findOneAndDelete({ _id: { $eq: id }, deletedAt: { $ne: null, $lt: cutoff } })
          .lean()
          .exec(),
      ),
    );
  }

  async findUnfinished(options: { updatedBefore?: Date; limit?: number } = {}): Promise<Job[]> {
    const filter: QueryFilter<JobDocument> = { status: { $in: ['pending', 'queued', 'processing'] } };
    if (options.updatedBefore) filter.updatedAt = { $lt: options.updatedBefore };
    return this.mongo.guard(async () =>
      (
        await this.jobs
          .find(filter)
          .sort({ _id: 1 })
          .limit(options.limit ?? 100_000)
          .lean()
          .exec()
      ).map((doc) => toJob(doc)!),
    );
  }

  async findOwnedMany(userId: string, ids: readonly string[]): Promise<Job[]> {
    if (ids.length === 0) return [];
    return this.mongo.guard(async () =>
      (
        await this.jobs
          .find({ _id: { $in: ids.map(String) }, userId: { $eq: userId } })
          .lean()
          .exec()
      ).map((doc) => toJob(doc)!),
    );
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const docs = await this.mongo.guard(() =>
      this.jobs
        .find({ _id: { $in: ids.map(String) } }, { _id: 1 })
        .lean()
        .exec(),
    );
    return new Set(docs.map((doc) => String(doc._id)));
  }

  async libraryCounts(userId: string): Promise<LibraryCount[]> {
    const rows = await this.mongo.guard(() =>
      this.jobs
        .aggregate<{ _id: { status: JobStatus; fileType: Job['fileType']; trashed: boolean }; count: number; bytes: number }>([
          { $match: { userId: { $eq: userId } } },
          {
            $group: {
              _id: { status: '$status', fileType: '$fileType', trashed: { $ne: [{ $ifNull: ['$deletedAt', null] }, null] } },
              count: { $sum: 1 },
              bytes: { $sum: '$fileSize' },
            },
          },
        ])
        .exec(),
    );
    return rows.map((row) => ({ ...row._id, count: row.count, bytes: row.bytes }));
  }

  async findMissingRenditions(options: { before?: string; limit: number }): Promise<Job[]> {
    // Served by the { status, _id } index, walked backwards.
    const filter: QueryFilter<JobDocument> = { status: 'completed', thumbnailKey: { $ne: null }, thumbnail2xKey: null };
    if (options.before !== undefined) filter._id = { $lt: String(options.before) };
    return this.mongo.guard(async () =>
      (await this.jobs.find(filter).sort({ _id: -1 }).limit(options.limit).lean().exec()).map((doc) => toJob(doc)!),
    );
  }

  async countByStatus(userId?: string): Promise<Record<JobStatus, number>> {
    const rows = await this.mongo.guard(() =>
      this.jobs
        .aggregate<{
          _id: JobStatus;
          n: number;
        }>([...(userId ? [{ $match: { userId: { $eq: userId } } }] : []), { $group: { _id: '$status', n: { $sum: 1 } } }])
        .exec(),
    );
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const row of rows) counts[row._id] = row.n;
    return counts;
  }

  async countByStatusAndType(): Promise<{ status: JobStatus; fileType: Job['fileType']; count: number }[]> {
    const rows = await this.mongo.guard(() =>
      this.jobs
        .aggregate<{
          _id: { status: JobStatus; fileType: Job['fileType'] };
          n: number;
        }>([{ $group: { _id: { status: '$status', fileType: '$fileType' }, n: { $sum: 1 } } }])
        .exec(),
    );
    return rows.map((row) => ({ status: row._id.status, fileType: row._id.fileType, count: row.n }));
  }

  /** Sets `deletedAt` on each listed job of the user whose `deletedAt` matches `when`; each document moves atomically on its own. */
  private setDeletedAt(
    userId: string,
    ids: readonly string[],
    when: { $eq: null } | { $ne: null },
    deletedAt: Date | null,
  ): Promise<string[]> {
    return this.mongo.guard(async () => {
      const moved: string[] = [];
      for (const id of ids) {
        const doc = await this.jobs
          .findOneAndUpdate(
            { _id: { $eq: id }, userId: { $eq: userId }, deletedAt: when },
            { $set: { deletedAt } },
            { returnDocument: 'after', projection: { _id: 1 } },
          )
          .lean()
          .exec();
        if (doc) moved.push(doc._id);
      }
      return moved;
    });
  }

  async ping(): Promise<void> {
    await this.mongo.guard(async () => {
      const db = this.jobs.db.db;
      if (!db) throw new Error('MongoDB is not connected');
      await db.command({ ping: 1 });
    });
  }
}

function transitionQuery(request: TransitionRequest): { filter: QueryFilter<JobDocument>; update: UpdateQuery<JobDocument> } {
  const filter: QueryFilter<JobDocument> = { status: { $in: [...request.from] } };
  if (request.claimToken !== undefined) filter.claimToken = { $eq: request.claimToken };
  const { incrementAttempts, ...fields } = request.set ?? {};
  const update: UpdateQuery<JobDocument> = { $set: { ...fields, status: request.to, updatedAt: request.now ?? new Date() } };
  if (incrementAttempts) update.$inc = { attempts: 1 };
  return { filter, update };
}

function toDocument(job: Job): JobDocument {
  const { id, ...rest } = job;
  return { _id: id, ...rest, nameKey: nameKeyOf(job.originalFilename) };
}

function toJob(doc: JobDocument | null): Job | null {
  if (!doc) return null;
  const { _id, nameKey: _nameKey, ...rest } = doc;
  return { id: _id, ...rest };
}

/** `text` matched literally inside a regular expression. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
