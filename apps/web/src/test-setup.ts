// First: sets up the Angular test environment (and with it the JIT compiler) before any library loads.
import { setupZonelessTestEnv } from 'jest-preset-angular/setup-env/zoneless';
import { MATERIAL_ANIMATIONS } from '@angular/material/core';

// Zoneless like the app; Material without animations, so dialogs and snackbars open and close at once.
setupZonelessTestEnv({
  errorOnUnknownElements: true,
  errorOnUnknownProperties: true,
  extraProviders: [{ provide: MATERIAL_ANIMATIONS, useValue: { animationsDisabled: true } }],
});

// jsdom has no layout, so the CDK sees every element as zero-sized and warns that the dialog's
// initial focus target "is not focusable". True in jsdom only; keep every other warning.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes("[cdkFocusInitial]' is not focusable")) return;
  warn(...args);
};
