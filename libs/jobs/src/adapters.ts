/**
 * The adapters of the jobs lib and their schemas, for what builds them by hand: the persistence contract
 * suites, the migration tests and the bench (`@app/jobs/adapters`). Application code gets them
 * from the lib's module through its ports and never imports this file.
 */
export * from './persistence/sqlite-jobs.repository';
export * from './persistence/mongo-jobs.repository';
export * from './persistence/migrations';
export * from './idempotency/sqlite-idempotency.records';
export * from './idempotency/mongo-idempotency.records';
export * from './idempotency/idempotency.records';
export { encodeCursor } from './library/list-cursor';
