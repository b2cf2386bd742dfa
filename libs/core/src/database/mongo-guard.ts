import { ServiceUnavailableError } from '../errors/domain-errors';

const UNAVAILABLE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongooseServerSelectionError',
  'MongoPoolClearedError',
]);

/** Runs a MongoDB operation, turning "cannot reach MongoDB" failures into ServiceUnavailableError. */
export async function mongoGuard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const name = (error as Error | undefined)?.name ?? '';
    const message = (error as Error | undefined)?.message ?? '';
    if (
      UNAVAILABLE_NAMES.has(name) ||
      /buffering timed out|Client must be connected|connection .* closed|before initial connection|bufferCommands = false|not connected/i.test(
        message,
      )
    ) {
      throw new ServiceUnavailableError('The database is unavailable right now. Try again shortly.', 'database');
    }
    throw error;
  }
}

export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 11000;
}
