import type { UserView } from '@app/shared';

export interface User {
  id: string;
  /** Normalised: trimmed, NFC, lower case. */
  email: string;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}

export function toUserView(user: User): UserView {
  return { id: user.id, email: user.email, createdAt: user.createdAt.toISOString() };
}

/** The one form an email is stored and looked up in. */
export function normaliseEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}
