import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { map } from 'rxjs';
import { AuthService } from './auth.service';

/**
 * Pages for signed-in users only. A session that ended while the app was closed is renewed with
 * the refresh cookie where possible; otherwise the user goes to /login, told that the session
 * ended (with the email kept) when there was one, and comes back here after signing in.
 */
export const signedInGuard: CanActivateFn = (_route, state) => {
  const auth = inject(AuthService);
  const router = inject(Router);
  if (auth.isSignedIn()) return true;
  const toLogin = (expired: boolean) =>
    router.createUrlTree(['/login'], { queryParams: expired ? { reason: 'expired', returnUrl: state.url } : { returnUrl: state.url } });
  if (auth.rememberedEmail() === null) return toLogin(false);
  return auth.refresh().pipe(map((renewed) => (renewed && auth.isSignedIn() ? true : toLogin(true))));
};
