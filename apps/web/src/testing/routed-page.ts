import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { provideAppIcons } from '../app/ui/icons';
import { BLANK_ROUTES } from './routes';

export interface RoutedPage {
  readonly harness: RouterTestingHarness;
  readonly http: HttpTestingController;
}

/**
 * Sets up TestBed for a page component routed at `path` (query parameters bound to its inputs),
 * the app's other routes as blank pages, the app's icons and a testing HttpClient, with an empty
 * localStorage; the harness starts at `initialUrl` when given.
 */
export async function setUpRoutedPage(path: string, component: Type<unknown>, initialUrl?: string): Promise<RoutedPage> {
  localStorage.clear();
  TestBed.configureTestingModule({
    providers: [
      provideAppIcons(),
      provideHttpClient(),
      provideHttpClientTesting(),
      provideRouter([{ path, component }, ...BLANK_ROUTES.filter((route) => route.path !== path)], withComponentInputBinding()),
    ],
  });
  const http = TestBed.inject(HttpTestingController);
  const harness = await RouterTestingHarness.create(initialUrl);
  return { harness, http };
}
