import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, switchMap, throwError } from 'rxjs';
import { AuthService } from './auth.service';

/** Only the app's own API gets the token; signed thumbnail URLs and other origins never do. */
function isApiRequest(url: string): boolean {
  return url === '/api' || url.startsWith('/api/');
}

/** Sign-in, registration and renewal carry no access token and are not renewed themselves. */
function isSessionRequest(url: string): boolean {
  return /^\/api\/auth\/(login|register|refresh|logout)$/.test(url);
}

/**
 * Adds `Authorization: Bearer <token>` to API requests. A 401 on a request that carried the
 * current token means the token is no longer good: it is renewed once with the refresh cookie and
 * the request sent again; when the server refuses that the session is over: sign out and go to /login with a
 * way back. (A 401 from /api/auth/login carries no token; it is a wrong password, shown by the form.)
 */
export const authInterceptor: HttpInterceptorFn = (req, next) => {
  const auth = inject(AuthService);
  const token = auth.token();
  if (!token || !isApiRequest(req.url) || isSessionRequest(req.url)) return next(req);
  return next(req.clone({ setHeaders: { Authorization: `Bearer ${token}` } })).pipe(
    catchError((error: unknown) => {
      // Only when the token is still the one that failed: a late 401 must not end a newer session.
      if (!(error instanceof HttpErrorResponse) || error.status !== 401 || auth.token() !== token) return throwError(() => error);
      return auth.renewal().pipe(
        switchMap((outcome) => {
          const fresh = auth.token();
          if (outcome === 'renewed' && fresh && fresh !== token)
            return next(req.clone({ setHeaders: { Authorization: `Bearer ${fresh}` } }));
          // A renewal that did not reach the server says nothing about the session: keep it.
          if (outcome === 'refused' && auth.token() === token) auth.signOut('expired');
          return throwError(() => error);
        }),
      );
    }),
  );
};
