import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKeyError, MongoDatabase } from '@app/core';
import { User, USER_ROLES, UserRole } from '../user';
import { EmailTakenError, UsersRepository } from '../users.repository';
import { AUTH_MONGO_MIGRATIONS } from './migrations';

@Schema({ collection: 'users', versionKey: false })
export class UserDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, unique: true })
  email!: string;

  @Prop({ type: String, required: true })
  passwordHash!: string;

  @Prop({ type: String, required: true, enum: USER_ROLES, default: 'user' })
  role!: UserRole;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  @Prop({ type: Date, required: true })
  updatedAt!: Date;
}

export const UserSchema = SchemaFactory.createForClass(UserDocument);

@Injectable()
export class MongoUsersRepository extends UsersRepository implements OnModuleInit {
  constructor(
    @InjectModel(UserDocument.name) private readonly users: Model<UserDocument>,
    private readonly mongo: MongoDatabase,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.mongo.migrate({ lib: 'auth', models: [this.users], migrations: AUTH_MONGO_MIGRATIONS });
  }

  async create(user: User): Promise<User> {
    return this.mongo.guard(async () => {
      try {
        await this.users.create({
          _id: user.id,
          email: user.email,
          passwordHash: user.passwordHash,
          role: user.role,
          createdAt: user.createdAt,
          updatedAt: user.updatedAt,
        });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new EmailTakenError();
        throw error;
      }
      return user;
    });
  }

  async findByEmail(email: string): Promise<User | null> {
    // `email` is always a string here (validated DTO), and `$eq` makes sure it is compared as one.
    return this.mongo.guard(async () =>
      toUser(
        await this.users
          .findOne({ email: { $eq: email } })
          .lean()
          .exec(),
      ),
    );
  }

  async findById(id: string): Promise<User | null> {
    return this.mongo.guard(async () =>
      toUser(
        await this.users
          .findOne({ _id: { $eq: id } })
          .lean()
          .exec(),
      ),
    );
  }

  async setRole(email: string, role: UserRole): Promise<User | null> {
    return this.mongo.guard(async () =>
      toUser(
        await this.users
          .findOneAndUpdate({ email: { $eq: email } }, { $set: { role, updatedAt: new Date() } }, { new: true })
          .lean()
          .exec(),
      ),
    );
  }

  async findByRole(role: UserRole): Promise<User[]> {
    return this.mongo.guard(async () => {
      const docs = await this.users
        .find({ role: { $eq: role } })
        .sort({ createdAt: 1, _id: 1 })
        .lean()
        .exec();
      return docs.map((doc) => toUser(doc)!);
    });
  }
}

function toUser(doc: UserDocument | null): User | null {
  if (!doc) return null;
  return {
    id: doc._id,
    email: doc.email,
    passwordHash: doc.passwordHash,
    role: doc.role,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}
