export interface UserView {
  id: string;
  email: string;
  createdAt: string;
}

export interface AuthResult {
  accessToken: string;
  /** Seconds until the token expires. */
  expiresIn: number;
  user: UserView;
}

/** bcrypt reads at most 72 bytes; longer passwords would be silently truncated. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_BYTES = 72;
