import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { computed, inject, Injectable, InjectionToken, Provider, Signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { catchError, map, Observable, of, retry, shareReplay, throwError, timer } from 'rxjs';
import { backoffDelay } from './backoff';

/** The parts of the OpenAPI document read here. */
export interface OpenApiDocument {
  paths?: Record<string, Record<string, OpenApiOperation | undefined> | undefined>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> } | undefined> };
}

interface OpenApiOperation {
  parameters?: { name?: string; in?: string }[];
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } } | undefined> } | undefined>;
}

/**
 * What a server documents: its routes (`method path`, e.g. `post /api/jobs/bulk`), the list's
 * query parameters, and the fields of a job (`GET /api/jobs/{id}`'s answer; absent: not documented).
 */
export interface FeatureSet {
  readonly routes: ReadonlySet<string>;
  readonly listParameters: ReadonlySet<string>;
  readonly jobFields?: ReadonlySet<string>;
}

/** The contract's later additions, each there or not. */
export interface Features {
  readonly stats: boolean;
  readonly search: boolean;
  readonly sort: boolean;
  readonly typeFilter: boolean;
  /** Delete moves jobs to a trash that can be listed (`trashed=true`) and restored from. */
  readonly trash: boolean;
  readonly bulk: boolean;
  readonly archives: boolean;
  readonly apiKeys: boolean;
  readonly webhooks: boolean;
  /** tus resumable uploads at /api/uploads. */
  readonly resumableUploads: boolean;
  /**
   * Finished jobs have renditions (2×, preview, ThumbHash, size) that their `job:status` event
   * does not carry: a job is read again when it completes.
   */
  readonly renditions: boolean;
}

/** How a `$ref` names a schema of the document's own. */
const SCHEMA_REF = '#/components/schemas/';

export const NO_FEATURES: FeatureSet = { routes: new Set(), listParameters: new Set() };

export function featureSetOf(document: OpenApiDocument): FeatureSet {
  const routes = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const method of Object.keys(operations ?? {})) routes.add(`${method.toLowerCase()} ${path}`);
  }
  const parameters = document.paths?.['/api/jobs']?.['get']?.parameters ?? [];
  const listParameters = new Set(parameters.flatMap((parameter) => (parameter.in === 'query' && parameter.name ? [parameter.name] : [])));
  const jobRef = document.paths?.['/api/jobs/{id}']?.['get']?.responses?.['200']?.content?.['application/json']?.schema?.$ref;
  const jobSchema = jobRef?.startsWith(SCHEMA_REF) ? document.components?.schemas?.[jobRef.slice(SCHEMA_REF.length)] : undefined;
  return { routes, listParameters, jobFields: new Set(Object.keys(jobSchema?.properties ?? {})) };
}

export function featuresOf({ routes, listParameters, jobFields }: FeatureSet): Features {
  return {
    stats: routes.has('get /api/jobs/stats'),
    search: listParameters.has('q'),
    sort: listParameters.has('sort'),
    typeFilter: listParameters.has('type'),
    trash: routes.has('post /api/jobs/{id}/restore') && listParameters.has('trashed'),
    bulk: routes.has('post /api/jobs/bulk'),
    archives: routes.has('post /api/archives'),
    apiKeys: routes.has('get /api/api-keys'),
    webhooks: routes.has('get /api/webhooks'),
    resumableUploads: [...routes].some((route) => / \/api\/uploads(\/|$)/.test(route)),
    renditions: ['thumbnail2xUrl', 'previewUrl'].some((field) => jobFields?.has(field) ?? false),
  };
}

/** How long to wait before asking for the document again after the `attempt`th failure: 1 s, 2 s, 4 s … up to 30 s. */
export function featureRetryDelay(attempt: number): number {
  return backoffDelay(attempt, 1000, 30_000);
}

/**
 * A server that answers 404 has no document: it predates it, and offers nothing extra; so does one
 * whose proxy refuses it (401, 403: asking again would not change that). Anything else (offline, a
 * 502 while the api restarts, a 503, a timeout, 408, 429) says nothing about the server's routes,
 * so the document is asked for again rather than concluding the features are absent.
 */
function isAbsent(error: unknown): boolean {
  return error instanceof HttpErrorResponse && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

/** Where the feature set comes from: the server's OpenAPI document unless a test says otherwise. */
export const FEATURE_SOURCE = new InjectionToken<Observable<FeatureSet>>('FEATURE_SOURCE', {
  providedIn: 'root',
  factory: () =>
    inject(HttpClient)
      .get<OpenApiDocument>('/api/docs-json')
      .pipe(
        retry({ delay: (error: unknown, attempt) => (isAbsent(error) ? throwError(() => error) : timer(featureRetryDelay(attempt))) }),
        map(featureSetOf),
        catchError(() => of(NO_FEATURES)),
      ),
});

/** For specs whose subject is not feature detection: the server has exactly these routes and parameters. */
export function provideFeatureSet(features: FeatureSet = NO_FEATURES): Provider {
  return { provide: FEATURE_SOURCE, useValue: of(features) };
}

/**
 * Which of the contract's later additions this server has, read once from the OpenAPI document it
 * publishes (`/api/docs-json`, where every route is documented). The app offers a control only when
 * its route is there, so it works against servers that do not have them all yet, and each feature
 * lights up as the server gains it. Nothing extra is offered until the document is in (a failed read
 * is retried with backoff, so a restart of the api does not hide them for the session), or when the
 * server has no document (404).
 */
@Injectable({ providedIn: 'root' })
export class ServerFeatures {
  /** The features once known (replayed to every subscriber). */
  readonly features$: Observable<Features> = inject(FEATURE_SOURCE).pipe(map(featuresOf), shareReplay(1));
  /** Null until known. */
  readonly features: Signal<Features | null> = toSignal(this.features$, { initialValue: null });

  readonly loaded = computed(() => this.features() !== null);
  readonly stats = this.flag('stats');
  readonly search = this.flag('search');
  readonly sort = this.flag('sort');
  readonly typeFilter = this.flag('typeFilter');
  readonly trash = this.flag('trash');
  readonly bulk = this.flag('bulk');
  readonly archives = this.flag('archives');
  readonly apiKeys = this.flag('apiKeys');
  readonly webhooks = this.flag('webhooks');
  readonly resumableUploads = this.flag('resumableUploads');
  readonly renditions = this.flag('renditions');

  private flag(name: keyof Features): Signal<boolean> {
    return computed(() => this.features()?.[name] ?? false);
  }
}
