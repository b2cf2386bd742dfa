import type { User, UserRole } from './user';

/** Raised by `create` when the (normalised) email is already registered. */
export class EmailTakenError extends Error {
  constructor() {
    super('Email already registered');
    this.name = 'EmailTakenError';
  }
}

/** Persistence port for users; adapters: SQLite and MongoDB. */
export abstract class UsersRepository {
  /** Inserts a user; rejects with EmailTakenError when the email exists (enforced by a unique index). */
  abstract create(user: User): Promise<User>;
  abstract findByEmail(email: string): Promise<User | null>;
  abstract findById(id: string): Promise<User | null>;
  /** Sets the role of the user with this (normalised) email; resolves the updated user, null when none has it. */
  abstract setRole(email: string, role: UserRole): Promise<User | null>;
  /** Users holding `role`, oldest first. */
  abstract findByRole(role: UserRole): Promise<User[]>;
}
