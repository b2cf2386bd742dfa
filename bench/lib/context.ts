import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import type { AuthResult } from '@app/shared';
import { TestStack } from '../../test/support/stack';
import { sendJson } from './multipart';

/** One line of the results table. */
export interface Row {
  section: string;
  metric: string;
  value: number | string;
  unit: string;
  /** Human-readable target ("≥ 0.90"), or undefined for figures given for information. */
  target?: string;
  pass?: boolean;
}

export interface User {
  id: string;
  token: string;
}

/**
 * Worker concurrency of every bench stack, and of the bare-sharp baseline: the production default
 * (one job per core) unless WORKER_CONCURRENCY is set for the bench.
 */
export const CONCURRENCY = Number(process.env.WORKER_CONCURRENCY) || os.availableParallelism();

/**
 * Environment of every process the bench starts: production mode and log level, production queue
 * timings and allocator settings, rate limits out of the way, and (from TestStack) a unique Redis prefix and a temporary
 * data folder (SQLite, files, secret) removed afterwards.
 */
export function benchEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    // Production asks for METRICS_TOKEN; the bench's stacks listen on loopback only.
    METRICS_PUBLIC: 'true',
    BCRYPT_COST: '10',
    RATE_LIMIT_AUTH: '1000000000',
    RATE_LIMIT_UPLOADS: '1000000000',
    WORKER_CONCURRENCY: String(CONCURRENCY),
    JOB_LOCK_MS: '30000',
    QUEUE_SWEEP_MS: '10000',
    // glibc's malloc as the Docker image and `npm start` configure it (docs/deploy.md#memory): two
    // arenas, and sharp's one libvips thread per image kept. bare sharp runs with the same.
    MALLOC_ARENA_MAX: '2',
    VIPS_CONCURRENCY: '1',
    // `PREVIEW_SIZE=0 npm run bench` measures the service and bare sharp without the preview.
    ...(process.env.PREVIEW_SIZE !== undefined ? { PREVIEW_SIZE: process.env.PREVIEW_SIZE } : {}),
    // `WORKER_NICE=0 npm run bench` measures the workers at the api's CPU priority (default 10, lower).
    ...(process.env.WORKER_NICE !== undefined ? { WORKER_NICE: process.env.WORKER_NICE } : {}),
    ...extra,
  };
}

/** Stacks started by the bench, stopped by its clean-up whatever happens. */
export const liveStacks = new Set<TestStack>();

export async function startStack(options: { workers: number; env?: Record<string, string>; noApi?: boolean }): Promise<TestStack> {
  const stack = await TestStack.start({ workers: options.workers, env: benchEnv(options.env), noApi: options.noApi });
  liveStacks.add(stack);
  return stack;
}

export async function stopStack(stack: TestStack): Promise<void> {
  liveStacks.delete(stack);
  await stack.stop();
}

export async function register(baseUrl: string, label: string): Promise<User> {
  const email = `bench-${label}-${randomBytes(4).toString('hex')}@example.com`;
  const { status, body } = await sendJson<AuthResult>(baseUrl, 'POST', '/api/auth/register', { email, password: 'correct horse battery' });
  if (status !== 201) throw new Error(`register failed: ${status} ${JSON.stringify(body)}`);
  return { id: body.user.id, token: body.accessToken };
}
