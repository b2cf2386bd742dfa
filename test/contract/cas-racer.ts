// One contender in the cross-process compare-and-set race (see persistence.e2e-spec.ts): opens the
// SQLite file through the real adapter, waits for the start signal, then tries to claim the job.
import 'reflect-metadata';
import { SqliteDatabase } from '@app/core';
import { SqliteJobsRepository } from '@app/jobs/adapters';

async function main(): Promise<void> {
  const [file, jobId, startAt, name] = process.argv.slice(2);
  const repository = new SqliteJobsRepository(new SqliteDatabase(file));
  while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));
  const claimed = await repository.transition(jobId, { from: ['queued'], to: 'processing', set: { claimToken: name } });
  process.stdout.write(JSON.stringify({ name, won: claimed !== null }));
}

void main();
