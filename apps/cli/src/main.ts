import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { apiClient, apiError, CliError, EXIT } from './client';
import { Progress } from './progress';
import { DEFAULT_SERVER, keySession, passwordSession } from './session';
import { readSettings, removeSettings, writeSettings } from './settings';
import { uploadFiles, type FileResult } from './upload';

const USAGE = `thumbs: thumbnails from the command line

Usage:
  thumbs login [--server URL] [--email EMAIL | --api-key KEY]
                     sign in (password from THUMBS_PASSWORD, the terminal or stdin) and keep an API key
  thumbs logout      forget the stored API key
  thumbs upload <files or folders>... [--wait] [--out DIR] [--position centre|attention|entropy]
                     [--allow-duplicates] [--resumable-from BYTES]
  thumbs jobs [--status STATUS] [--limit N]
  thumbs keys [list | create NAME [--scopes read,upload,delete] | revoke ID] [--email EMAIL]
Every command takes --json (one JSON document on stdout) and --server URL.
Environment: THUMBS_SERVER, THUMBS_API_KEY, THUMBS_EMAIL, THUMBS_PASSWORD, THUMBS_CONFIG_DIR.
Exit codes: 0 done, 1 a file refused or a job failed, 2 usage, 3 not signed in or not allowed, 4 server unreachable.`;

const OPTIONS = {
  server: { type: 'string' },
  email: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  out: { type: 'string' },
  position: { type: 'string' },
  'allow-duplicates': { type: 'boolean', default: false },
  'resumable-from': { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  scopes: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Runs one command; resolves to the exit code. Output goes to `out` (results) and `err` (messages). */
export async function run(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    err.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? out : err).write(`${USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const print = (json: unknown, text: string) => out.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : text ? `${text}\n` : '');
  try {
    switch (command) {
      case 'login':
        return await login(values, env, print);
      case 'logout':
        removeSettings(env);
        print({ signedOut: true }, 'Signed out: the API key is no longer stored here (revoke it with `thumbs keys revoke`).');
        return EXIT.ok;
      case 'upload':
        return await upload(values, rest, env, print);
      case 'jobs':
        return await jobs(values, env, print);
      case 'keys':
        return await keys(values, rest, env, print);
      default:
        err.write(`Unknown command: ${command}\n\n${USAGE}\n`);
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof CliError) {
      err.write(`${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

type Print = (json: unknown, text: string) => void;

async function login(values: Values, env: NodeJS.ProcessEnv, print: Print): Promise<number> {
  const server = (values.server || env.THUMBS_SERVER || readSettings(env)?.server || DEFAULT_SERVER).replace(/\/+$/, '');
  const given = values['api-key'] || (values.email ? undefined : env.THUMBS_API_KEY);
  if (given) {
    const { error, response } = await apiClient(server, given).GET('/api/jobs', { params: { query: { limit: 1 } } });
    if (!response.ok) throw apiError(response, error, 'This API key does not work');
    const file = writeSettings({ server, apiKey: given }, env);
    print({ server, settings: file }, `Signed in to ${server} with the API key (kept in ${file}).`);
    return EXIT.ok;
  }
  const client = await passwordSession(server, values.email, env);
  const name = `thumbs CLI on ${os.hostname()}`;
  const { data, error, response } = await client.POST('/api/api-keys', { body: { name, scopes: ['read', 'upload', 'delete'] } });
  if (!data) throw apiError(response, error, 'Making an API key');
  const file = writeSettings({ server, apiKey: data.key, apiKeyId: data.id }, env);
  print({ server, apiKeyId: data.id, name, settings: file }, `Signed in to ${server}: API key "${name}" made and kept in ${file}.`);
  return EXIT.ok;
}

async function upload(values: Values, paths: string[], env: NodeJS.ProcessEnv, print: Print): Promise<number> {
  if (paths.length === 0) throw new CliError('Name the files or folders to upload.', EXIT.usage);
  if (values.position && !['centre', 'attention', 'entropy'].includes(values.position))
    throw new CliError('--position is one of centre, attention, entropy.', EXIT.usage);
  const resumableFrom = Number(values['resumable-from'] ?? 8 * 1024 * 1024);
  if (!Number.isFinite(resumableFrom) || resumableFrom < 0) throw new CliError('--resumable-from is a number of bytes.', EXIT.usage);
  const session = keySession(env, values.server);
  const results = await uploadFiles({
    ...session,
    paths,
    wait: values.wait,
    out: values.out,
    position: values.position,
    allowDuplicates: values['allow-duplicates'],
    resumableFrom,
    progress: Progress.for(!values.json),
    env,
  });
  print(results, results.map(describe).join('\n'));
  const failed = results.some((result) => result.rejected || result.job?.status === 'failed');
  return failed ? EXIT.someFailed : EXIT.ok;
}

function describe(result: FileResult): string {
  if (result.rejected) {
    const existing = result.rejected.existingJobId ? ` (job ${result.rejected.existingJobId}; --allow-duplicates uploads it anyway)` : '';
    return `✗ ${result.file}: refused, ${result.rejected.message}${existing}`;
  }
  const job = result.job!;
  const saved = result.saved ? ` → ${result.saved}` : '';
  const error = job.status === 'failed' ? `: ${job.errorMessage}` : '';
  return `${job.status === 'failed' ? '✗' : '✓'} ${result.file}: job ${job.id} ${job.status}${error}${saved}`;
}

async function jobs(values: Values, env: NodeJS.ProcessEnv, print: Print): Promise<number> {
  const { client } = keySession(env, values.server);
  const limit = values.limit ? Number(values.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliError('--limit is a whole number from 1 to 200.', EXIT.usage);
  const status = values.status as 'pending' | 'queued' | 'processing' | 'completed' | 'failed' | undefined;
  const { data, error, response } = await client.GET('/api/jobs', { params: { query: { limit, ...(status ? { status } : {}) } } });
  if (!data) throw apiError(response, error, 'Listing jobs');
  const lines = data.items.map(
    (job) => `${job.id}  ${job.status.padEnd(10)}  ${String(job.fileSize).padStart(10)}  ${job.createdAt}  ${job.originalFilename}`,
  );
  print(data, lines.length > 0 ? lines.join('\n') : 'No jobs.');
  return EXIT.ok;
}

async function keys(values: Values, rest: string[], env: NodeJS.ProcessEnv, print: Print): Promise<number> {
  const [action = 'list', argument] = rest;
  const server = (values.server || env.THUMBS_SERVER || readSettings(env)?.server || DEFAULT_SERVER).replace(/\/+$/, '');
  // An API key cannot make, list or revoke keys: these sign in with the password.
  const client = await passwordSession(server, values.email, env);
  switch (action) {
    case 'list': {
      const { data, error, response } = await client.GET('/api/api-keys');
      if (!data) throw apiError(response, error, 'Listing API keys');
      const lines = data.map((key) => `${key.id}  ${key.name}  [${key.scopes.join(',')}]  last used ${key.lastUsedAt ?? 'never'}`);
      print(data, lines.length > 0 ? lines.join('\n') : 'No API keys.');
      return EXIT.ok;
    }
    case 'create': {
      if (!argument) throw new CliError('Name the key: thumbs keys create NAME.', EXIT.usage);
      const scopes = (values.scopes ?? 'read,upload,delete').split(',').map((scope) => scope.trim()) as ('read' | 'upload' | 'delete')[];
      const { data, error, response } = await client.POST('/api/api-keys', { body: { name: argument, scopes } });
      if (!data) throw apiError(response, error, 'Making an API key');
      print(data, `${data.key}\n(shown this once: keep it now; id ${data.id})`);
      return EXIT.ok;
    }
    case 'revoke': {
      if (!argument) throw new CliError('Name the key id: thumbs keys revoke ID.', EXIT.usage);
      const { error, response } = await client.DELETE('/api/api-keys/{id}', { params: { path: { id: argument } } });
      if (!response.ok) throw apiError(response, error, 'Revoking the API key');
      print({ revoked: argument }, `Revoked ${argument}.`);
      return EXIT.ok;
    }
    default:
      throw new CliError(`Unknown keys action: ${action} (list, create, revoke).`, EXIT.usage);
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.server;
    },
  );
}
