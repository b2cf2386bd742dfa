import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, NextFunction, Request, Response } from 'express';
import expressStaticGzip from 'express-static-gzip';
import * as fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';

const WEB_ROOT = Symbol('WEB_ROOT');

/** Paths that belong to the api, Socket.IO and metrics, never to the web app. */
const NOT_WEB = /^\/(api|socket\.io|metrics)(\/|$)/;
/**
 * Bundles whose names carry a content hash, possibly with a `.br`/`.gz` suffix: esbuild's
 * (`styles-5YX6QQAO.css`) or, for chunks merged by Rollup (`NG_BUILD_OPTIMIZE_CHUNKS`), base64url
 * ones (`chunk-DJgS-q1I.js`, `chunk-B_75BM5q.js`).
 */
const HASHED = /-[\w-]{8}\.(js|css|woff2?|svg|png)(\.br|\.gz)?$/;

/**
 * The production build of the web app at `/`. Each text asset is served as the brotli or gzip file
 * `npm run build:web` wrote beside it (`Content-Encoding`, `Vary: Accept-Encoding`), chosen from
 * the request's `Accept-Encoding` (brotli first), or as is for clients that accept neither.
 * Every other GET that is not the API, Socket.IO or metrics and names no file (a client-side route
 * such as /jobs/…) gets index.html. Hashed bundles are cached for a year, index.html never.
 *
 * Registered when the module initialises, after Nest has registered its routes: the API answers
 * first, and its unknown paths still get the API's JSON 404 (they are skipped here).
 */
@Module({})
export class WebAppModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(WEB_ROOT) private readonly root: string,
  ) {}

  /** Nothing when the web app has not been built (development uses `ng serve`). */
  static forRoot(root: string): DynamicModule[] {
    if (!fs.existsSync(path.join(root, 'index.html'))) return [];
    return [{ module: WebAppModule, providers: [{ provide: WEB_ROOT, useValue: root }] }];
  }

  onModuleInit(): void {
    const app = this.adapterHost.httpAdapter.getInstance<Express>();
    const assets = expressStaticGzip(this.root, {
      enableBrotli: true,
      orderPreference: ['br', 'gzip'],
      index: 'index.html',
      serveStatic: {
        index: false,
        fallthrough: true,
        setHeaders: (res: ServerResponse, file: string) => {
          res.setHeader('Cache-Control', HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
        },
      },
    }) as (req: Request, res: Response, next: NextFunction) => void;
    app.use((req: Request, res: Response, next: NextFunction) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_WEB.test(req.path)) return next();
      // A client-side route: the last segment names no file.
      if (!/\.[^/]+$/.test(req.path)) req.url = '/index.html';
      assets(req, res, next);
    });
  }
}
