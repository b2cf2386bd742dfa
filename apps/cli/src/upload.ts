import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tus from 'tus-js-client';
import { Upload, type UrlStorage } from 'tus-js-client';
import { apiError, CliError, EXIT, type ThumbsClient } from './client';
import type { components } from './api';
import { Progress } from './progress';
import { resumeFile } from './settings';

export type Job = components['schemas']['JobDto'];
type Rejected = components['schemas']['RejectedDto'];

export interface UploadOptions {
  server: string;
  apiKey: string;
  client: ThumbsClient;
  paths: string[];
  wait: boolean;
  out?: string;
  position?: string;
  allowDuplicates: boolean;
  /** Files at least this large go over tus (resumable) when the server has it. */
  resumableFrom: number;
  progress: Progress;
  env: NodeJS.ProcessEnv;
}

export interface FileResult {
  file: string;
  job?: Job;
  rejected?: Rejected;
  /** Where the thumbnail was saved (--out). */
  saved?: string;
}

/** Node's build of tus-js-client keeps upload URLs in a JSON file; its typings declare only the browser's storages. */
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (file: string) => UrlStorage };

const CONCURRENCY = 2;
const TUS_CHUNK_BYTES = 8 * 1024 * 1024;

/** Every file named, folders walked (hidden entries left out), in a stable order. */
export function collectFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (entry: string, named: boolean): void => {
    if (!named && path.basename(entry).startsWith('.')) return;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(entry);
    } catch {
      throw new CliError(`No such file or folder: ${entry}`, EXIT.usage);
    }
    if (stat.isDirectory()) {
      for (const child of fs.readdirSync(entry).sort()) visit(path.join(entry, child), false);
    } else if (stat.isFile()) {
      files.push(entry);
    }
  };
  paths.forEach((entry) => visit(entry, true));
  return files;
}

/** Whether the server takes tus uploads (its OpenAPI document lists them). */
async function hasTus(server: string): Promise<boolean> {
  const response = await fetch(`${server}/api/docs-json`).catch(() => null);
  if (!response?.ok) return false;
  const document = (await response.json()) as { paths?: Record<string, unknown> };
  return Boolean(document.paths?.['/api/uploads']);
}

/** Uploads the files (tus for large ones), then waits for their jobs and saves thumbnails when asked. */
export async function uploadFiles(options: UploadOptions): Promise<FileResult[]> {
  const files = collectFiles(options.paths);
  if (files.length === 0) throw new CliError('Nothing to upload.', EXIT.usage);
  const tus = await hasTus(options.server);
  const sizes = files.map((file) => fs.statSync(file).size);
  options.progress.start(
    files.length,
    sizes.reduce((sum, size) => sum + size, 0),
  );
  const results = new Array<FileResult>(files.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, files.length) }, async () => {
      while (next < files.length) {
        const index = next++;
        const file = files[index];
        const resumable = tus && sizes[index] >= options.resumableFrom;
        results[index] = resumable
          ? await uploadResumable(options, file, sizes[index])
          : await uploadMultipart(options, file, sizes[index]);
        options.progress.fileDone();
      }
    }),
  );
  options.progress.stop();
  if (options.wait || options.out) await waitForJobs(options, results);
  if (options.out) await saveThumbnails(options, results);
  return results;
}

async function uploadMultipart(options: UploadOptions, file: string, size: number): Promise<FileResult> {
  const form = new FormData();
  form.append('files', await fs.openAsBlob(file), path.basename(file));
  if (options.position) form.append('position', options.position);
  if (options.allowDuplicates) form.append('allowDuplicates', 'true');
  // The same key on a resend: a request that reached the server once makes its jobs once.
  const key = randomUUID();
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { data, error, response } = await options.client.POST('/api/upload', {
        body: {} as never,
        bodySerializer: () => form,
        headers: { 'idempotency-key': key },
      });
      options.progress.bytes(size);
      const body = (data ?? error) as { jobs?: Job[]; rejected?: Rejected[] } | undefined;
      if (body?.jobs?.[0]) return { file, job: body.jobs[0] };
      if (body?.rejected?.[0]) return { file, rejected: body.rejected[0] };
      throw apiError(response, error, `Uploading ${file}`);
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== EXIT.server || attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/** tus 1.0: resumable within this run (retries) and across runs (the upload URLs kept in the settings folder). */
function uploadResumable(options: UploadOptions, file: string, size: number): Promise<FileResult> {
  return new Promise((resolve, reject) => {
    let jobId: string | null = null;
    let sent = 0;
    const upload = new Upload(fs.createReadStream(file), {
      endpoint: `${options.server}/api/uploads`,
      uploadSize: size,
      chunkSize: TUS_CHUNK_BYTES,
      retryDelays: [1000, 3000, 10000],
      urlStorage: new FileUrlStorage(resumeFile(options.env)),
      removeFingerprintOnSuccess: true,
      headers: { authorization: `Bearer ${options.apiKey}` },
      metadata: {
        filename: path.basename(file),
        filetype: 'application/octet-stream',
        ...(options.position ? { position: options.position } : {}),
        ...(options.allowDuplicates ? { allowDuplicates: 'true' } : {}),
      },
      onProgress: (loaded) => {
        options.progress.bytes(loaded - sent);
        sent = loaded;
      },
      onAfterResponse: (_request, response) => {
        jobId = response.getHeader('Thumbs-Job-Id') ?? jobId;
      },
      onSuccess: () => {
        if (!jobId) return reject(new CliError(`Uploading ${file}: the server did not say which job it made.`, EXIT.server));
        options.client
          .GET('/api/jobs/{id}', { params: { path: { id: jobId } } })
          .then(({ data, error, response }) =>
            data ? resolve({ file, job: data }) : reject(apiError(response, error, `Reading job ${jobId}`)),
          )
          .catch(reject);
      },
      onError: (error) => {
        const response = (error as { originalResponse?: { getStatus(): number; getBody(): string } }).originalResponse;
        const status = response?.getStatus() ?? 0;
        if (status === 413 || status === 415 || status === 422) {
          const rejected = parseRejected(response!.getBody(), file);
          return resolve({ file, rejected });
        }
        reject(new CliError(`Uploading ${file}: ${error.message}`, status === 401 || status === 403 ? EXIT.auth : EXIT.server));
      },
    });
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch(reject);
  });
}

function parseRejected(body: string, file: string): Rejected {
  try {
    const parsed = JSON.parse(body) as Partial<Rejected> & { rejected?: Rejected[] };
    if (parsed.rejected?.[0]) return parsed.rejected[0];
    if (parsed.code && parsed.message) return parsed as Rejected;
  } catch {
    // not JSON: said below
  }
  return { originalFilename: path.basename(file), code: 'unsupported_type', message: body || 'refused' };
}

const FINISHED = new Set(['completed', 'failed']);

/** Polls each job until it has finished (one request per job per second). */
async function waitForJobs(options: UploadOptions, results: FileResult[]): Promise<void> {
  await Promise.all(
    results.map(async (result) => {
      while (result.job && !FINISHED.has(result.job.status)) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const { data, error, response } = await options.client.GET('/api/jobs/{id}', { params: { path: { id: result.job.id } } });
        if (!data) throw apiError(response, error, `Reading job ${result.job.id}`);
        result.job = data;
      }
    }),
  );
}

/** Saves each completed job's thumbnail as <name>-thumb.jpg in the folder, never over another file. */
async function saveThumbnails(options: UploadOptions, results: FileResult[]): Promise<void> {
  const dir = options.out!;
  fs.mkdirSync(dir, { recursive: true });
  for (const result of results) {
    const url = result.job?.status === 'completed' ? result.job.downloadUrl : null;
    if (!url) continue;
    const response = await fetch(new URL(url, options.server));
    if (!response.ok) throw new CliError(`Downloading the thumbnail of ${result.file}: ${response.status}`, EXIT.server);
    const stem = path.basename(result.file).replace(/\.[^.]*$/, '') || 'thumbnail';
    let target = path.join(dir, `${stem}-thumb.jpg`);
    for (let n = 2; fs.existsSync(target); n += 1) target = path.join(dir, `${stem}-thumb (${n}).jpg`);
    fs.writeFileSync(target, Buffer.from(await response.arrayBuffer()));
    result.saved = target;
  }
}
