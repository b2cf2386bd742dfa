import type { UserView } from '@app/shared';

/** `admin`: an operator (the queue dashboard); granted on the server (`npm run admin -- grant <email>`), never over HTTP. */
export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface User {
  id: string;
  /** Normalised: trimmed, NFC, lower case. */
  email: string;
  passwordHash: string;
  role: UserRole;
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
