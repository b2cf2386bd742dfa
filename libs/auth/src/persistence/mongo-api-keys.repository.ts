import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { MongoDatabase } from '@app/core';
import { API_KEY_SCOPES, ApiKeyScope } from '@app/shared';
import { ApiKey, ApiKeysRepository } from '../api-keys.repository';
import { AUTH_MONGO_MIGRATIONS } from './migrations';

/** Collection `api_keys` (the SQLite table of auth/0007); its indexes follow this schema. */
@Schema({ collection: 'api_keys', versionKey: false })
export class ApiKeyDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, index: true })
  userId!: string;

  @Prop({ type: String, required: true })
  name!: string;

  @Prop({ type: [String], enum: API_KEY_SCOPES, required: true })
  scopes!: ApiKeyScope[];

  @Prop({ type: String, required: true, unique: true })
  keyHash!: string;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  @Prop({ type: Date, default: null })
  lastUsedAt!: Date | null;
}

export const ApiKeySchema = SchemaFactory.createForClass(ApiKeyDocument);

@Injectable()
export class MongoApiKeysRepository extends ApiKeysRepository implements OnModuleInit {
  constructor(
    @InjectModel(ApiKeyDocument.name) private readonly keys: Model<ApiKeyDocument>,
    private readonly mongo: MongoDatabase,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.mongo.migrate({ lib: 'auth', models: [this.keys], migrations: AUTH_MONGO_MIGRATIONS });
  }

  async insert(key: ApiKey): Promise<void> {
    await this.mongo.guard(() =>
      this.keys.create({
        _id: key.id,
        userId: key.userId,
        name: key.name,
        scopes: key.scopes,
        keyHash: key.keyHash,
        createdAt: key.createdAt,
        lastUsedAt: key.lastUsedAt,
      }),
    );
  }

  async listByUser(userId: string): Promise<ApiKey[]> {
    return this.mongo.guard(async () =>
      (
        await this.keys
          .find({ userId: { $eq: userId } })
          .sort({ createdAt: -1, _id: -1 })
          .lean()
          .exec()
      ).map(toKey),
    );
  }

  async deleteOwned(id: string, userId: string): Promise<boolean> {
    return this.mongo.guard(
      async () => (await this.keys.deleteOne({ _id: { $eq: id }, userId: { $eq: userId } }).exec()).deletedCount === 1,
    );
  }

  async findByHash(keyHash: string): Promise<ApiKey | null> {
    return this.mongo.guard(async () => {
      const doc = await this.keys
        .findOne({ keyHash: { $eq: keyHash } })
        .lean()
        .exec();
      return doc ? toKey(doc) : null;
    });
  }

  async findById(id: string): Promise<ApiKey | null> {
    return this.mongo.guard(async () => {
      const doc = await this.keys
        .findOne({ _id: { $eq: id } })
        .lean()
        .exec();
      return doc ? toKey(doc) : null;
    });
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.mongo.guard(() => this.keys.updateOne({ _id: { $eq: id } }, { $set: { lastUsedAt: at } }).exec());
  }
}

function toKey(doc: ApiKeyDocument): ApiKey {
  return {
    id: doc._id,
    userId: doc.userId,
    name: doc.name,
    scopes: [...doc.scopes],
    keyHash: doc.keyHash,
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt ?? null,
  };
}
