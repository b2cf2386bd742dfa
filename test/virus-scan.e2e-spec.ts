import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient } from './support/client';
import { media } from './support/media';
import { freePort, TestStack } from './support/stack';

jest.setTimeout(240_000);

const CLAMD = process.env.CLAMD_PATH ?? '/usr/sbin/clamd';
/** The EICAR anti-virus test string: harmless, and every scanner's "found" case. */
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/** clamd on 127.0.0.1:`port` with a database of one body signature (the EICAR string anywhere in a file). */
async function startClamd(dir: string, port: number): Promise<ChildProcess> {
  if (!fs.existsSync(CLAMD))
    throw new Error(`The virus-scanning test needs clamd at ${CLAMD} (Debian: apt-get install clamav-daemon), or CLAMD_PATH.`);
  const db = path.join(dir, 'db');
  fs.mkdirSync(db, { recursive: true });
  fs.writeFileSync(path.join(db, 'thumbs-test.ndb'), `Eicar-Test-Signature:0:*:${Buffer.from(EICAR).toString('hex')}\n`);
  const conf = path.join(dir, 'clamd.conf');
  fs.writeFileSync(
    conf,
    [
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `DatabaseDirectory ${db}`,
      'Foreground yes',
      `LogFile ${path.join(dir, 'clamd.log')}`,
      `TemporaryDirectory ${dir}`,
      'StreamMaxLength 200M',
      'MaxThreads 2',
    ].join('\n') + '\n',
  );
  const clamd = spawn(CLAMD, ['--config-file', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (clamd.exitCode !== null)
      throw new Error(`clamd exited (${clamd.exitCode}):\n${fs.readFileSync(path.join(dir, 'clamd.log'), 'utf8')}`);
    if ((await ping(port)) === 'PONG') return clamd;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  clamd.kill('SIGKILL');
  throw new Error('clamd did not answer PING within 120 s');
}

function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (data) => (reply += data.toString()));
    socket.on('end', () => resolve(reply.replace(/\0/g, '').trim()));
    socket.on('error', () => resolve(''));
  });
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((entry) => (entry.isFile() ? [entry.name] : []));
}

describe('virus scanning with clamd (CLAMAV_URL; built api and worker, real clamd)', () => {
  let dir: string;
  let clamd: ChildProcess | undefined;
  let stack: TestStack | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thumbs-clamd-'));
    const port = await freePort();
    clamd = await startClamd(dir, port);
    stack = await TestStack.start({ workers: 1, env: { CLAMAV_URL: `tcp://127.0.0.1:${port}` } });
  });

  afterAll(async () => {
    await stack?.stop();
    if (clamd && clamd.exitCode === null) {
      clamd.kill('SIGTERM');
      await new Promise((resolve) => clamd!.once('exit', resolve));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails an infected upload at once with the signature name and deletes its original; clean files go on', async () => {
    const user = await ApiClient.register(stack!.baseUrl);
    const clean = await media.jpeg();
    const infected = { name: 'holiday.jpg', type: 'image/jpeg', data: Buffer.concat([clean.data, Buffer.from(EICAR)]) };
    const response = await user.upload([clean, infected]);
    expect(response.status).toBe(201);
    const [good, bad] = response.body.jobs;
    expect(bad).toMatchObject({ status: 'failed', errorCode: 'infected', retryable: false });
    expect(bad.errorMessage).toContain('Eicar-Test-Signature');
    expect(filesUnder(path.join(stack!.dir, 'files', 'uploads'))).not.toContain(bad.id);
    expect((await user.waitFor(good.id)).status).toBe('completed');
    expect((await user.job(bad.id)).body).toMatchObject({ status: 'failed', errorCode: 'infected' });
    expect((await user.retry(bad.id)).status).not.toBe(200);
  });

  it('refuses uploads with 503 while clamd is down: nothing passes unscanned, nothing is kept', async () => {
    const user = await ApiClient.register(stack!.baseUrl);
    clamd!.kill('SIGTERM');
    await new Promise((resolve) => clamd!.once('exit', resolve));
    const before = filesUnder(path.join(stack!.dir, 'files', 'uploads')).length;
    const response = await user.upload([await media.jpeg()]);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(/virus scanner/i),
    });
    expect((await user.list()).body.items).toEqual([]);
    expect(filesUnder(path.join(stack!.dir, 'files', 'uploads')).length).toBe(before);
  });
});
