/** What an API key may do: `read` (GET routes, the socket), `upload` (upload, retry), `delete` (delete, bulk delete). */
export const API_KEY_SCOPES = ['read', 'upload', 'delete'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The visible prefix of every API key, so a leaked one is recognised (secret scanners, logs). */
export const API_KEY_PREFIX = 'thumbs_';

/** An API key as listed: never the key itself. */
export interface ApiKeyView {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  lastUsedAt: string | null;
}

/** The answer to creating a key: the key, shown this once. */
export interface CreatedApiKeyView extends ApiKeyView {
  key: string;
}
