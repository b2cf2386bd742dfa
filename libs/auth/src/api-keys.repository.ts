import type { ApiKeyScope } from '@app/shared';

/** A stored API key: its HMAC, never the key. */
export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  scopes: ApiKeyScope[];
  keyHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** Persistence port for API keys; adapters: SQLite and MongoDB. */
export abstract class ApiKeysRepository {
  abstract insert(key: ApiKey): Promise<void>;
  /** The user's keys, newest first. */
  abstract listByUser(userId: string): Promise<ApiKey[]>;
  /** Deletes the user's key; false when there is none with that id for this user. */
  abstract deleteOwned(id: string, userId: string): Promise<boolean>;
  abstract findByHash(keyHash: string): Promise<ApiKey | null>;
  abstract findById(id: string): Promise<ApiKey | null>;
  abstract touch(id: string, at: Date): Promise<void>;
}
