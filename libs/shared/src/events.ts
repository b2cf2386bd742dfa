import type { JobErrorCode, JobStatus } from './job';

/** Socket.IO event names. */
export const SOCKET_EVENTS = {
  jobStatus: 'job:status',
  /** Sent just before the server disconnects a socket whose access token has expired. */
  sessionExpired: 'session:expired',
  /**
   * Sent when the api may have missed status changes: its Redis subscription was lost (Redis
   * restarted or unreachable) and is back. Clients read their jobs again over REST.
   */
  resync: 'jobs:resync',
} as const;

/** Message of a bad or expired token in `connect_error`. */
export const SOCKET_UNAUTHORIZED = 'unauthorized';

/** Message in `connect_error` when the user has MAX_SOCKETS_PER_USER sockets open on that api instance already. */
export const SOCKET_TOO_MANY = 'too_many_connections';

/** Sockets one user may have open on one api instance (tabs, devices, scripts). */
export const MAX_SOCKETS_PER_USER = 50;

/**
 * Emitted as `job:status` for every status change of a user's jobs, to that user's sockets only,
 * in the order the changes happened.
 */
export interface JobStatusEvent {
  jobId: string;
  userId: string;
  status: JobStatus;
  thumbnailUrl?: string;
  downloadUrl?: string;
  errorMessage?: string;
  /** With `failed`, when known: why (see `JobView.errorCode`). */
  errorCode?: JobErrorCode;
  /** Milliseconds since the epoch when the change happened. */
  timestamp: number;
}
