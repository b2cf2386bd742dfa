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

/**
 * Characters that show nothing or change how the text around them is drawn: controls, format
 * characters (bidi overrides and isolates, zero-width spaces and joiners, the BOM, soft hyphens),
 * line and paragraph separators, unassigned and private-use code points, and the blank letters
 * (Hangul fillers, the blank Braille pattern). An email holding one can pass for another.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/u;

export function hasInvisibleCharacters(text: string): boolean {
  return INVISIBLE.test(text);
}

/** The one form an email is stored and looked up in. */
export function normaliseEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}
