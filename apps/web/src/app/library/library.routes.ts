import { Routes } from '@angular/router';

/**
 * The library (/dashboard) with the viewer over it (/jobs/:id: the page stays, its grid behind the
 * viewer), and the trash (/trash): one lazy chunk.
 */
export const libraryRoutes: Routes = [
  {
    path: 'trash',
    title: 'Trash · Thumbs',
    data: { trash: true },
    loadComponent: () => import('./library-page.component').then((m) => m.LibraryPageComponent),
  },
  {
    path: '',
    loadComponent: () => import('./library-page.component').then((m) => m.LibraryPageComponent),
    children: [
      { path: 'dashboard', title: 'Library · Thumbs', children: [] },
      {
        path: 'jobs/:id',
        title: 'Viewer · Thumbs',
        loadComponent: () => import('../viewer/viewer.component').then((m) => m.ViewerComponent),
      },
    ],
  },
];
