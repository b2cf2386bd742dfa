import type { FeatureSet } from '../app/http/server-features';

/** Every route and list parameter of the contract, as a server that has them all documents them. */
export const CONTRACT_ROUTES = [
  'post /api/auth/register',
  'post /api/auth/login',
  'get /api/auth/me',
  'post /api/auth/refresh',
  'post /api/auth/logout',
  'post /api/upload',
  'get /api/jobs',
  'get /api/jobs/stats',
  'post /api/jobs/bulk',
  'get /api/jobs/{id}',
  'delete /api/jobs/{id}',
  'post /api/jobs/{id}/retry',
  'post /api/jobs/{id}/restore',
  'post /api/archives',
  'post /api/api-keys',
  'get /api/api-keys',
  'delete /api/api-keys/{id}',
  'post /api/webhooks',
  'get /api/webhooks',
  'delete /api/webhooks/{id}',
  'get /api/webhooks/{id}/deliveries',
  'post /api/uploads',
  'patch /api/uploads/{id}',
] as const;

/** The routes of the API as it was before the contract's additions. */
export const FIRST_ROUTES = [
  'post /api/auth/register',
  'post /api/auth/login',
  'get /api/auth/me',
  'post /api/upload',
  'get /api/jobs',
  'get /api/jobs/{id}',
  'delete /api/jobs/{id}',
  'post /api/jobs/{id}/retry',
] as const;

/** A server with the whole contract. */
export function allFeatures(): FeatureSet {
  return {
    routes: new Set(CONTRACT_ROUTES),
    listParameters: new Set(['status', 'limit', 'cursor', 'type', 'q', 'sort', 'trashed']),
    jobFields: new Set([
      'id',
      'status',
      'thumbnailUrl',
      'thumbnail2xUrl',
      'previewUrl',
      'animatedPreviewUrl',
      'thumbhash',
      'width',
      'height',
    ]),
  };
}

/** A server with only the first version of the API. */
export function firstFeatures(): FeatureSet {
  return { routes: new Set(FIRST_ROUTES), listParameters: new Set(['status', 'limit', 'cursor']) };
}
