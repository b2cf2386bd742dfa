import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { MongoDatabase } from '@app/core';
import { RefreshToken, RefreshTokensRepository } from '../refresh-tokens.repository';
import { AUTH_MONGO_MIGRATIONS } from './migrations';

/** Collection `refresh_tokens` (the SQLite table of auth/0005-0006, 0008); its indexes follow this schema. */
@Schema({ collection: 'refresh_tokens', versionKey: false })
export class RefreshTokenDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, index: true })
  userId!: string;

  @Prop({ type: String, required: true, index: true })
  familyId!: string;

  @Prop({ type: String, required: true, unique: true })
  tokenHash!: string;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  // A TTL index: MongoDB removes expired tokens by itself.
  @Prop({ type: Date, required: true, expires: 0 })
  expiresAt!: Date;

  @Prop({ type: Date, default: null })
  rotatedAt!: Date | null;

  @Prop({ type: Date, default: null })
  revokedAt!: Date | null;
}

export const RefreshTokenSchema = SchemaFactory.createForClass(RefreshTokenDocument);
// isFamilyRevoked, asked on every request by an access token: the revoked tokens of a family only.
RefreshTokenSchema.index({ familyId: 1 }, { name: 'revoked_family', partialFilterExpression: { revokedAt: { $type: 'date' } } });

@Injectable()
export class MongoRefreshTokensRepository extends RefreshTokensRepository implements OnModuleInit {
  constructor(
    @InjectModel(RefreshTokenDocument.name) private readonly tokens: Model<RefreshTokenDocument>,
    private readonly mongo: MongoDatabase,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.mongo.migrate({ lib: 'auth', models: [this.tokens], migrations: AUTH_MONGO_MIGRATIONS });
  }

  async insert(token: RefreshToken): Promise<void> {
    await this.mongo.guard(() =>
      this.tokens.create({
        _id: token.id,
        userId: token.userId,
        familyId: token.familyId,
        tokenHash: token.tokenHash,
        createdAt: token.createdAt,
        expiresAt: token.expiresAt,
        rotatedAt: token.rotatedAt,
        revokedAt: token.revokedAt,
      }),
    );
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | null> {
    return this.mongo.guard(async () => {
      const doc = await this.tokens
        .findOne({ tokenHash: { $eq: tokenHash } })
        .lean()
        .exec();
      return doc ? toToken(doc) : null;
    });
  }

  async markRotated(id: string, at: Date): Promise<boolean> {
    return this.mongo.guard(async () => {
      const result = await this.tokens
        .updateOne({ _id: { $eq: id }, rotatedAt: null, revokedAt: null }, { $set: { rotatedAt: at } })
        .exec();
      return result.modifiedCount === 1;
    });
  }

  async revokeFamily(familyId: string, at: Date, keepUntil: Date): Promise<void> {
    // An update pipeline: `expiresAt` (the TTL index's field) becomes the later of the two.
    await this.mongo.guard(() =>
      this.tokens
        .updateMany(
          { familyId: { $eq: familyId }, revokedAt: null },
          [{ $set: { revokedAt: at, expiresAt: { $max: ['$expiresAt', keepUntil] } } }],
          { updatePipeline: true },
        )
        .exec(),
    );
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return this.mongo.guard(
      async () => (await this.tokens.exists({ familyId: { $eq: familyId }, revokedAt: { $type: 'date' } }).exec()) !== null,
    );
  }

  async deleteExpired(before: Date): Promise<number> {
    return this.mongo.guard(async () => (await this.tokens.deleteMany({ expiresAt: { $lt: before } }).exec()).deletedCount);
  }
}

function toToken(doc: RefreshTokenDocument): RefreshToken {
  return {
    id: doc._id,
    userId: doc.userId,
    familyId: doc.familyId,
    tokenHash: doc.tokenHash,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    rotatedAt: doc.rotatedAt ?? null,
    revokedAt: doc.revokedAt ?? null,
  };
}
