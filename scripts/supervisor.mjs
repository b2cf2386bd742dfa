// A small process supervisor for `npm start`: runs each program as a child process and restarts it
// when it exits on its own, the way a process manager (systemd Restart=on-failure, pm2) would.
//
// Written here rather than taken from a library: no supervisor is among the installed packages
// (pm2 and forever are large daemons with their own state folders, not something to embed in a start
// script), and what is needed fits in this file.
//
// Policy, per child:
//  - an exit nobody asked for (crash, SIGKILL, any exit code) is restarted after a delay that starts
//    at 1 s and doubles on each further crash, up to 30 s;
//  - a child that stayed up for `stableMs` (30 s) before crashing counts as having recovered: the
//    delay and the crash count start again from the beginning;
//  - `maxFastCrashes` (5) crashes in a row, each within `stableMs` of its start, mean it cannot run:
//    the supervisor gives up (onGiveUp), and the caller stops everything with a non-zero exit code;
//  - stop() cancels pending restarts, sends SIGTERM to every child, SIGKILL after the grace period.
import { spawn } from 'node:child_process';

export const RESTART_POLICY = { initialDelayMs: 1_000, maxDelayMs: 30_000, stableMs: 30_000, maxFastCrashes: 5 };

export class Supervisor {
  /**
   * @param {{ say: (message: string) => void, onGiveUp: (name: string, message: string) => void, policy?: Partial<typeof RESTART_POLICY>, graceMs?: number }} options
   */
  constructor({ say, onGiveUp, policy = {}, graceMs = 20_000 }) {
    this.say = say;
    this.onGiveUp = onGiveUp;
    this.policy = { ...RESTART_POLICY, ...policy };
    this.graceMs = graceMs;
    this.stopping = false;
    /** @type {Map<string, { name: string, command: string, args: string[], options: object, child?: import('node:child_process').ChildProcess, startedAt: number, crashes: number, delayMs: number, timer?: NodeJS.Timeout, last: boolean }>} */
    this.entries = new Map();
  }

  /** Starts `command args` as `name`, restarted by the policy. `last`: stopped after the others (e.g. Redis). */
  add(name, command, args, options = {}, { last = false } = {}) {
    const entry = { name, command, args, options, startedAt: 0, crashes: 0, delayMs: this.policy.initialDelayMs, last };
    this.entries.set(name, entry);
    this.launch(entry);
  }

  /** A child that is not restarted (e.g. a private redis-server), only stopped with the others. */
  adopt(name, child, { last = false } = {}) {
    this.entries.set(name, { name, child, startedAt: Date.now(), crashes: 0, delayMs: 0, last, adopted: true });
  }

  launch(entry) {
    entry.timer = undefined;
    entry.startedAt = Date.now();
    const child = spawn(entry.command, entry.args, { stdio: 'inherit', ...entry.options });
    entry.child = child;
    this.say(`${entry.name} started (pid ${child.pid})`);
    child.once('error', (error) => this.say(`${entry.name} could not start: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(entry, code, signal));
  }

  exited(entry, code, signal) {
    if (this.stopping || entry.adopted) return;
    const upMs = Date.now() - entry.startedAt;
    const how = signal ?? `code ${code}`;
    if (upMs >= this.policy.stableMs) {
      entry.crashes = 0;
      entry.delayMs = this.policy.initialDelayMs;
    }
    entry.crashes += 1;
    if (entry.crashes >= this.policy.maxFastCrashes) {
      const message =
        `${entry.name} exited (${how}) ${entry.crashes} times in a row, each within ` +
        `${Math.round(this.policy.stableMs / 1000)} s of starting: giving up (see its log above)`;
      this.say(message);
      this.onGiveUp(entry.name, message);
      return;
    }
    const delayMs = entry.delayMs;
    entry.delayMs = Math.min(entry.delayMs * 2, this.policy.maxDelayMs);
    this.say(
      `${entry.name} exited (${how}) after ${(upMs / 1000).toFixed(1)} s; restarting in ${delayMs / 1000} s ` +
        `(crash ${entry.crashes} of ${this.policy.maxFastCrashes} before giving up)`,
    );
    entry.timer = setTimeout(() => this.launch(entry), delayMs);
  }

  /** Cancels pending restarts, then SIGTERM to every child (those marked `last` after the others), SIGKILL after the grace period. */
  async stop() {
    this.stopping = true;
    const all = [...this.entries.values()];
    for (const entry of all) if (entry.timer) clearTimeout(entry.timer);
    const stop = (entries) =>
      Promise.all(
        entries.map(
          ({ child }) =>
            new Promise((resolve) => {
              if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', resolve);
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), this.graceMs).unref();
            }),
        ),
      );
    await stop(all.filter((entry) => !entry.last));
    await stop(all.filter((entry) => entry.last));
  }

  /** SIGKILL to every child still running (a second Ctrl-C). */
  killAll() {
    for (const { child } of this.entries.values()) if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
