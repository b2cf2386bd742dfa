/**
 * The adapters of the storage lib and their schemas, for what builds them by hand: the persistence contract
 * suites, the migration tests and the bench (`@app/storage/adapters`). Application code gets them
 * from the lib's module through its ports and never imports this file.
 */
export * from './disk/disk-storage.driver';
export * from './s3/s3-storage.driver';
