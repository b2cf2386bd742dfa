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
    children: [{ path: 'dashboard', loadChildren: () => import('./dashboard/dashboard.routes').then((m) => m.dashboardRoutes) }],
  },
  { path: '**', redirectTo: 'dashboard' },
];
