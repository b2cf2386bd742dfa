import { Routes } from '@angular/router';
import { signedOutGuard } from './signed-out.guard';

/** Sign-in and registration; each page is its own lazy chunk. */
export const authRoutes: Routes = [
  {
    path: 'login',
    title: 'Sign in · Thumbs',
    canActivate: [signedOutGuard],
    loadComponent: () => import('./login-page.component').then((m) => m.LoginPageComponent),
  },
  {
    path: 'register',
    title: 'Create an account · Thumbs',
    canActivate: [signedOutGuard],
    loadComponent: () => import('./register-page.component').then((m) => m.RegisterPageComponent),
  },
];
