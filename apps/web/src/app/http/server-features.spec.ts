import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { featureRetryDelay, featuresOf, featureSetOf, OpenApiDocument, ServerFeatures } from './server-features';

/** The OpenAPI document of a server with these routes; `GET /api/jobs` with these query parameters. */
function documentWith(routes: string[], listParameters: string[]): OpenApiDocument {
  const paths: NonNullable<OpenApiDocument['paths']> = {};
  for (const route of routes) {
    const [method, path] = route.split(' ');
    paths[path] = { ...paths[path], [method]: {} };
  }
  paths['/api/jobs'] = {
    ...paths['/api/jobs'],
    get: { parameters: listParameters.map((name) => ({ name, in: 'query' })).concat([{ name: 'authorization', in: 'header' }]) },
  };
  return { paths };
}

describe('ServerFeatures', () => {
  let http: HttpTestingController;
  let features: ServerFeatures;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    http = TestBed.inject(HttpTestingController);
    features = TestBed.inject(ServerFeatures);
  });

  afterEach(() => http.verify());

  it('offers nothing beyond the first API until the document is in', () => {
    expect(features.loaded()).toBe(false);
    expect(features.stats()).toBe(false);
    http.expectOne('/api/docs-json').flush(documentWith(['get /api/jobs', 'get /api/jobs/{id}'], ['status', 'limit', 'cursor']));
    expect(features.loaded()).toBe(true);
    expect(features.features()).toEqual({
      stats: false,
      search: false,
      sort: false,
      typeFilter: false,
      trash: false,
      bulk: false,
      archives: false,
      apiKeys: false,
      webhooks: false,
      resumableUploads: false,
      renditions: false,
    });
  });

  it('lights each feature up when the server documents its route or parameter', () => {
    http
      .expectOne('/api/docs-json')
      .flush(
        documentWith(
          [
            'get /api/jobs/stats',
            'post /api/jobs/bulk',
            'post /api/jobs/{id}/restore',
            'post /api/archives',
            'get /api/api-keys',
            'post /api/api-keys',
            'get /api/webhooks',
            'post /api/uploads',
          ],
          ['status', 'limit', 'cursor', 'q', 'sort', 'type', 'trashed'],
        ),
      );
    // Renditions are read from the job's schema (featureSetOf, below), not from a route.
    const { renditions, ...byRoute } = features.features()!;
    expect(Object.values(byRoute).every(Boolean)).toBe(true);
    expect(renditions).toBe(false);
  });

  it('needs both the restore route and the trashed parameter for the trash', () => {
    http.expectOne('/api/docs-json').flush(documentWith(['post /api/jobs/{id}/restore'], ['status']));
    expect(features.trash()).toBe(false);
  });

  it('asks again with backoff when reading the document fails for a moment, and offers the features once it is in', async () => {
    jest.useFakeTimers();
    try {
      http.expectOne('/api/docs-json').flush('Bad Gateway', { status: 502, statusText: 'Bad Gateway' });
      // Not concluded absent: still unknown, so nothing is hidden for good.
      expect(features.loaded()).toBe(false);
      await jest.advanceTimersByTimeAsync(999);
      http.expectNone('/api/docs-json');
      await jest.advanceTimersByTimeAsync(1);
      http.expectOne('/api/docs-json').error(new ProgressEvent('error'));
      expect(features.loaded()).toBe(false);
      await jest.advanceTimersByTimeAsync(1999);
      http.expectNone('/api/docs-json');
      await jest.advanceTimersByTimeAsync(1);
      http.expectOne('/api/docs-json').flush(documentWith(['get /api/jobs/stats', 'get /api/api-keys'], ['q', 'sort']));
      expect(features.loaded()).toBe(true);
      expect(features.search()).toBe(true);
      expect(features.apiKeys()).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('offers nothing extra when the server has no document', () => {
    http.expectOne('/api/docs-json').flush('nope', { status: 404, statusText: 'Not Found' });
    expect(features.loaded()).toBe(true);
    expect(Object.values(features.features()!).some(Boolean)).toBe(false);
  });
});

describe('featureRetryDelay', () => {
  it('doubles from a second up to half a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(featureRetryDelay)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe('featureSetOf', () => {
  it('reads routes of every method and only the query parameters of the list', () => {
    const set = featureSetOf(documentWith(['delete /api/jobs/{id}', 'post /api/upload'], ['q']));
    expect([...set.routes].sort()).toEqual(['delete /api/jobs/{id}', 'get /api/jobs', 'post /api/upload']);
    expect([...set.listParameters]).toEqual(['q']);
    expect(featureSetOf({}).routes.size).toBe(0);
  });

  it("reads a job's fields from the schema GET /api/jobs/{id} answers with, and renditions from them", () => {
    const withJob = (properties: Record<string, unknown>): OpenApiDocument => ({
      paths: {
        '/api/jobs/{id}': {
          get: { responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/JobDto' } } } } } },
        },
      },
      components: { schemas: { JobDto: { properties }, Other: { properties: { previewUrl: {} } } } },
    });
    const current = featureSetOf(withJob({ id: {}, thumbnailUrl: {}, thumbnail2xUrl: {}, previewUrl: {} }));
    expect([...current.jobFields!].sort()).toEqual(['id', 'previewUrl', 'thumbnail2xUrl', 'thumbnailUrl']);
    expect(featuresOf(current).renditions).toBe(true);
    // The first API's job, and a document that does not say: no renditions (another schema's fields do not count).
    expect(featuresOf(featureSetOf(withJob({ id: {}, thumbnailUrl: {} }))).renditions).toBe(false);
    expect(featuresOf(featureSetOf(documentWith(['get /api/jobs/{id}'], []))).renditions).toBe(false);
  });
});
