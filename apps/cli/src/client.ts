import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api';

/** The typed client for the thumbs REST API, generated from its OpenAPI document (`npm run cli:types`). */
export type ThumbsClient = Client<paths>;

/** Why a command stopped, with the exit code scripts can test. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Exit codes: 0 everything done; 1 some file was refused or some job failed; 2 usage; 3 not signed in or not allowed; 4 server unreachable or broken. */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, auth: 3, server: 4 } as const;

export function apiClient(server: string, token?: string): ThumbsClient {
  return createClient<paths>({
    baseUrl: server.replace(/\/+$/, ''),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    // Reached through a global so that tests and programs can wrap it; Node's own fetch otherwise.
    fetch: (request: Request) => globalThis.fetch(request).catch((error: unknown) => unreachable(server, error)),
  });
}

function unreachable(server: string, error: unknown): never {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
  throw new CliError(`Cannot reach ${server}: ${cause}`, EXIT.server);
}

/** The error an API answer stands for: its `message` (the contract's error shape), with the exit code for its status. */
export function apiError(response: Response, body: unknown, what: string): CliError {
  const message = messageOf(body) ?? response.statusText;
  const code = response.status === 401 || response.status === 403 ? EXIT.auth : response.status >= 500 ? EXIT.server : EXIT.someFailed;
  const hint = response.status === 401 ? ' (run `thumbs login`)' : '';
  return new CliError(`${what}: ${response.status} ${message}${hint}`, code);
}

function messageOf(body: unknown): string | null {
  if (!body || typeof body !== 'object' || !('message' in body)) return null;
  const { message } = body;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : null;
}
