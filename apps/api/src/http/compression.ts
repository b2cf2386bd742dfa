import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

/**
 * Compresses the API's answers (JSON lists of jobs compress ~10×) when the client accepts it, with
 * the `compression` defaults (brotli or gzip by `Accept-Encoding`, bodies of 1 kB and more, only
 * compressible types: never thumbnails, originals or zip archives). Only under /api: the web app's
 * assets are served precompressed, Socket.IO compresses its own.
 */
export function apiCompression(): RequestHandler {
  return compression({
    filter: (req: Request, res: Response) => req.path.startsWith('/api/') && compression.filter(req, res),
  });
}
