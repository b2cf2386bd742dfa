#!/usr/bin/env node
// Runs before `npm test` (the `pretest` script). Besides Node and a Redis at REDIS_URL, the suites
// need programs npm cannot install: Chromium for the browser tests, ffmpeg (with its encoders, to
// make the test videos), heif-enc (libheif-examples, to make the test HEIC files; the service
// itself decodes HEIC with libheif-js from npm) and redis-server (tests that kill and restart a
// Redis of their own) and clamd (clamav-daemon: the virus-scanning test starts one on its own
// one-line signature file).
// On Debian or Ubuntu the missing ones are installed with apt-get when this user may (root, or
// sudo without a password); elsewhere this says what to install, and the tests that need a
// missing program fail naming it.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const say = (message) => process.stdout.write(`[test prerequisites] ${message}\n`);

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const wanted = [
  { apt: 'chromium', present: () => fs.existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium') },
  { apt: 'ffmpeg', present: () => (process.env.FFMPEG_PATH ? fs.existsSync(process.env.FFMPEG_PATH) : onPath('ffmpeg')) },
  { apt: 'libheif-examples', present: () => onPath('heif-enc') },
  { apt: 'redis-server', present: () => onPath('redis-server') },
  { apt: 'clamav-daemon', present: () => fs.existsSync(process.env.CLAMD_PATH || '/usr/sbin/clamd') },
  // `npm run bench` (its prebench runs this with --bench) also compares with libvips' own CLI.
  { apt: 'libvips-tools', present: () => onPath('vipsthumbnail'), bench: true },
];
const forBench = process.argv.includes('--bench');
const missing = wanted.filter((program) => (forBench || !program.bench) && !program.present()).map((program) => program.apt);
if (missing.length === 0) process.exit(0);

const root = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = !root && onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (process.platform !== 'linux' || !onPath('apt-get') || !(root || sudo)) {
  say(`missing: ${missing.join(', ')}. Install them (Debian/Ubuntu: sudo apt-get install ${missing.join(' ')};`);
  say('macOS: brew install --cask chromium; brew install ffmpeg redis), or set CHROMIUM_PATH / FFMPEG_PATH.');
  process.exit(0);
}

say(`installing ${missing.join(', ')} with apt-get…`);
const aptGet = (...args) =>
  sudo
    ? execFileSync('sudo', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], { stdio: 'inherit' })
    : execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
aptGet('update', '-qq');
aptGet('install', '-y', '-qq', '--no-install-recommends', ...missing);
