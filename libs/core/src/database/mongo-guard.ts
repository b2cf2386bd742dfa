import { Error as MongooseErrors, mongo } from 'mongoose';
import { ServiceUnavailableError } from '../errors/domain-errors';

/**
 * Server error codes that mean "no primary to write to right now" or "shutting down": the
 * not-primary family, stepdowns, shutdowns, unreachable hosts (the codes the driver itself
 * retries reads and writes on).
 */
const OUTAGE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  134, // ReadConcernMajorityNotAvailableYet
]);

/** Labels the driver and server put on errors worth trying again once the cluster has recovered. */
const OUTAGE_LABELS = [
  mongo.MongoErrorLabel.RetryableWriteError,
  mongo.MongoErrorLabel.ResetPool,
  mongo.MongoErrorLabel.PoolRequestedRetry,
  mongo.MongoErrorLabel.InterruptInUseConnections,
  mongo.MongoErrorLabel.TransientTransactionError,
  mongo.MongoErrorLabel.SystemOverloadedError,
  mongo.MongoErrorLabel.RetryableError,
];

/**
 * Whether an error from mongoose or the driver means "MongoDB cannot be used right now" (and the
 * request may be tried again) rather than "this request is wrong". Decided by the driver's error
 * classes, labels and codes, not by names or messages, so every kind of outage is caught: network
 * errors (timeouts, `PoolClearedOnNetworkError`), no server selectable, a closed client or server,
 * write concern failures, not-primary and shutdown codes.
 */
export function isMongoUnavailableError(error: unknown): boolean {
  if (
    error instanceof mongo.MongoNetworkError ||
    error instanceof mongo.MongoServerSelectionError ||
    error instanceof MongooseErrors.MongooseServerSelectionError ||
    error instanceof mongo.MongoNotConnectedError ||
    error instanceof mongo.MongoTopologyClosedError ||
    error instanceof mongo.MongoServerClosedError ||
    error instanceof mongo.MongoWriteConcernError
  ) {
    return true;
  }
  if (error instanceof mongo.MongoError) {
    if (OUTAGE_LABELS.some((label) => error.hasErrorLabel(label))) return true;
    if (typeof error.code === 'number' && OUTAGE_CODES.has(error.code)) return true;
  }
  // Mongoose refuses commands on a connection that is not open (bufferCommands is off): no class for that one.
  return error instanceof MongooseErrors && /before initial connection is complete|Connection was force closed/i.test(error.message);
}

/** Runs a MongoDB operation, turning "cannot reach MongoDB" failures into ServiceUnavailableError. */
export async function mongoGuard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isMongoUnavailableError(error)) throw mongoUnavailable();
    throw error;
  }
}

export function mongoUnavailable(reason = 'unavailable right now'): ServiceUnavailableError {
  return new ServiceUnavailableError(`The database is ${reason}. Try again shortly.`, 'database');
}

export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 11000;
}
