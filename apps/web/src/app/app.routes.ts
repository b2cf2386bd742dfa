import { Routes } from '@angular/router';
import { authRoutes } from './auth/auth.routes';
import { signedInGuard } from './auth/signed-in.guard';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'dashboard' },
  ...authRoutes,
  {
    path: '',
    canActivate: [signedInGuard],
    loadComponent: () => import('./layout/shell.component').then((m) => m.ShellComponent),
    children: [
      { path: 'settings', loadChildren: () => import('./settings/settings.routes').then((m) => m.settingsRoutes) },
      { path: '', loadChildren: () => import('./library/library.routes').then((m) => m.libraryRoutes) },
    ],
  },
  { path: '**', redirectTo: 'dashboard' },
];
