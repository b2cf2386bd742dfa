import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { AuthService } from './auth.service';
import { DEFAULT_SIGNED_IN_URL } from './return-url';

/** Sign-in and registration make no sense when already signed in: go to the dashboard. */
export const signedOutGuard: CanActivateFn = () => {
  if (!inject(AuthService).isSignedIn()) return true;
  return inject(Router).parseUrl(DEFAULT_SIGNED_IN_URL);
};
