/**
 * The adapters of the auth lib and their schemas, for what builds them by hand: the persistence contract
 * suites, the migration tests and the bench (`@app/auth/adapters`). Application code gets them
 * from the lib's module through its ports and never imports this file.
 */
export * from './persistence/sqlite-users.repository';
export * from './persistence/mongo-users.repository';
export * from './persistence/migrations';
export * from './persistence/sqlite-refresh-tokens.repository';
export * from './persistence/mongo-refresh-tokens.repository';
export * from './persistence/sqlite-api-keys.repository';
export * from './persistence/mongo-api-keys.repository';
