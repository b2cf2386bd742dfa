import { Component } from '@angular/core';
import { Routes } from '@angular/router';

/** An empty page for router specs. */
@Component({ selector: 'app-blank-page', template: '' })
export class BlankPageComponent {}

/** Routes named like the app's, each a blank page. */
export const BLANK_ROUTES: Routes = [
  { path: 'login', component: BlankPageComponent },
  { path: 'register', component: BlankPageComponent },
  { path: 'dashboard', component: BlankPageComponent },
];
