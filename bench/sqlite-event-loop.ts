/**
 * How long SqliteDatabase blocks the event loop while another process holds the write lock.
 *
 *   node -r @swc-node/register bench/sqlite-event-loop.ts [--hold=250] [--gap=10] [--seconds=6] [--every=20]
 *
 * Forks a "busy worker" (this file with --holder) that opens the same file and loops: BEGIN
 * IMMEDIATE, one INSERT, keep the lock `hold` ms, COMMIT, rest `gap` ms. Meanwhile this process
 * starts a write through SqliteDatabase every `every` ms (as requests would arrive at the api) and
 * records the event-loop delay with perf_hooks.monitorEventLoopDelay; it prints the delay's p50,
 * p99 and max, and how the writes ended (done, 503, their latency).
 */
import Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SqliteDatabase } from '@app/core';

const args = new Map(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [key, value] = a.slice(2).split('=');
      return [key, value ?? 'true'] as const;
    }),
);
const num = (key: string, fallback: number) => Number(args.get(key) ?? fallback);

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function holder(file: string, holdMs: number, gapMs: number): void {
  const db = new Database(file, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  const insert = db.prepare('INSERT INTO writes (who, at) VALUES (?, ?)');
  let told = false;
  const loop = () => {
    db.prepare('BEGIN IMMEDIATE').run();
    insert.run('holder', Date.now());
    if (!told) {
      process.send?.('holding');
      told = true;
    }
    sleepSync(holdMs);
    db.prepare('COMMIT').run();
    setTimeout(loop, gapMs);
  };
  loop();
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] : NaN;

async function main(): Promise<void> {
  const holdMs = num('hold', 250);
  const gapMs = num('gap', 10);
  const seconds = num('seconds', 6);
  const everyMs = num('every', 20);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-sqlite-bench-'));
  const file = path.join(dir, 'bench.db');
  const database = new SqliteDatabase(file);
  database.db.exec('CREATE TABLE writes (id INTEGER PRIMARY KEY, who TEXT NOT NULL, at INTEGER NOT NULL)');

  const child = fork(__filename, ['--holder', `--file=${file}`, `--hold=${holdMs}`, `--gap=${gapMs}`], { execArgv: process.execArgv });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited (${code})`)));
  });

  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const latencies: number[] = [];
  let unavailable = 0;
  let failed = 0;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() - started >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      const t0 = performance.now();
      const write = database
        .execute('INSERT INTO writes (who, at) VALUES (?, ?)', 'api', Date.now())
        .then(
          () => void latencies.push(performance.now() - t0),
          (error: Error) => void (error.name === 'ServiceUnavailableError' ? unavailable++ : failed++),
        )
        .finally(() => pending.delete(write));
      pending.add(write);
    }, everyMs);
  });
  await Promise.all(pending);
  histogram.disable();
  child.kill();
  database.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `holder: ${holdMs} ms locked / ${gapMs} ms free; api: a write every ${everyMs} ms for ${seconds} s\n` +
      `event-loop delay: p50 ${ms(histogram.percentile(50))} ms, p99 ${ms(histogram.percentile(99))} ms, max ${ms(histogram.max)} ms\n` +
      `writes: ${sorted.length} done (latency p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, ` +
      `max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms), ${unavailable} answered 503, ${failed} other errors`,
  );
}

if (args.has('holder')) holder(String(args.get('file')), num('hold', 250), num('gap', 10));
else
  void main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
