import { Routes } from '@angular/router';

export const settingsRoutes: Routes = [
  {
    path: '',
    title: 'API keys and webhooks · Thumbs',
    loadComponent: () => import('./settings-page.component').then((m) => m.SettingsPageComponent),
  },
];
