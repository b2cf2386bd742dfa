import * as readline from 'node:readline';
import { apiClient, apiError, CliError, EXIT, type ThumbsClient } from './client';
import { readSettings } from './settings';

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

/** The server and API key a command runs with: THUMBS_SERVER / THUMBS_API_KEY, else what `thumbs login` stored. */
export function keySession(env: NodeJS.ProcessEnv, server?: string): { server: string; client: ThumbsClient; apiKey: string } {
  const stored = readSettings(env);
  const apiKey = env.THUMBS_API_KEY || stored?.apiKey;
  const base = server || env.THUMBS_SERVER || stored?.server || DEFAULT_SERVER;
  if (!apiKey) throw new CliError('Not signed in: run `thumbs login` (or set THUMBS_API_KEY).', EXIT.auth);
  return { server: base, client: apiClient(base, apiKey), apiKey };
}

/**
 * A password session, for what an API key may not do (making and revoking keys): the email from
 * --email or THUMBS_EMAIL, the password from THUMBS_PASSWORD, else asked for (hidden) on a
 * terminal, else the first line of standard input.
 */
export async function passwordSession(server: string, email: string | undefined, env: NodeJS.ProcessEnv): Promise<ThumbsClient> {
  const address = email || env.THUMBS_EMAIL || (process.stdin.isTTY ? await ask('Email: ', false) : undefined);
  if (!address) throw new CliError('An email is needed: --email or THUMBS_EMAIL.', EXIT.usage);
  const password = env.THUMBS_PASSWORD || (process.stdin.isTTY ? await ask('Password: ', true) : await firstLine());
  if (!password) throw new CliError('A password is needed: THUMBS_PASSWORD, the terminal, or standard input.', EXIT.usage);
  const { data, error, response } = await apiClient(server).POST('/api/auth/login', { body: { email: address, password } });
  if (!data) throw apiError(response, error, 'Sign-in failed');
  return apiClient(server, data.accessToken);
}

function ask(question: string, hidden: boolean): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) {
    const output = rl as unknown as { _writeToOutput: (text: string) => void; output: NodeJS.WritableStream };
    output._writeToOutput = (text: string) => {
      if (text.startsWith(question)) output.output.write(question);
    };
  }
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(hidden ? answer : answer.trim());
    }),
  );
}

async function firstLine(): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line.replace(/\r$/, '');
  }
  return '';
}
