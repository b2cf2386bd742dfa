/**
 * The adapters of the webhooks lib and their schemas, for what builds them by hand: the persistence contract
 * suites, the migration tests and the bench (`@app/webhooks/adapters`). Application code gets them
 * from the lib's module through its ports and never imports this file.
 */
export * from './persistence/migrations';
export * from './persistence/sqlite-webhooks.repository';
export * from './persistence/mongo-webhooks.repository';
