import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKeyError, MongoDatabase } from '@app/core';
import { IdempotencyKeyDocument } from '../persistence/mongo-jobs.repository';
import { IDEMPOTENCY_TTL_MS, IdempotencyRecords } from './idempotency.records';

/** Idempotency responses in the `idempotency_keys` collection (TTL index on createdAt, unique per user and key). */
@Injectable()
export class MongoIdempotencyRecords extends IdempotencyRecords {
  constructor(
    @InjectModel(IdempotencyKeyDocument.name) private readonly keys: Model<IdempotencyKeyDocument>,
    private readonly mongo: MongoDatabase,
  ) {
    super();
  }

  async findResponse(userId: string, key: string, now: Date): Promise<string | null> {
    const found = await this.mongo.guard(() =>
      this.keys
        .findOne({
          userId: { $eq: userId },
          key: { $eq: key },
          response: { $ne: null },
          createdAt: { $gte: new Date(now.getTime() - IDEMPOTENCY_TTL_MS) },
        })
        .lean()
        .exec(),
    );
    return found?.response ?? null;
  }

  async saveResponse(userId: string, key: string, response: string, now: Date): Promise<void> {
    const expired = new Date(now.getTime() - IDEMPOTENCY_TTL_MS);
    await this.mongo.guard(async () => {
      try {
        // Replaces a claim without a response (written before leases moved to Redis) or an expired one
        // the TTL monitor has not swept yet; a live response makes the upsert collide and stays.
        await this.keys
          .updateOne(
            { userId: { $eq: userId }, key: { $eq: key }, $or: [{ response: null }, { createdAt: { $lt: expired } }] },
            { $set: { response, createdAt: now } },
            { upsert: true },
          )
          .exec();
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    });
  }
}
