/**
 * One `npm test` runs every suite:
 *  - unit:        specs beside the code (apps/api, apps/worker, libs); real sharp, ffmpeg, SQLite, Redis where touched
 *  - integration: test/**: the built api and worker apps as child processes on real Redis and SQLite, driven over
 *                 HTTP and Socket.IO, and the built web app in headless Chromium
 *  - web:         the Angular app's specs (jsdom)
 * Each project's global setup runs only when the project has tests to run.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/**
 * ESM-only packages (file-type and its tokenizer, thumbhash, the tus server and its srvx): Node's own
 * require() loads them in the bundles and the bench, but Jest's module system does not, so swc
 * compiles them to CommonJS here.
 */
const esmPackages = ['file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit', 'thumbhash', '@tus', 'srvx'];

const node = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: {
    '^@app/(shared|core|auth|jobs|processors|storage|webhooks)$': '<rootDir>/libs/$1/src',
    '^@test/support/(.*)$': '<rootDir>/test/support/$1',
    // A lib's adapters, for the contract suites and tests that build them by hand (never application code).
    '^@app/(auth|jobs|storage|webhooks)/adapters$': '<rootDir>/libs/$1/src/adapters',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  projects: [
    {
      ...node,
      displayName: 'unit',
      rootDir: __dirname,
      globalSetup: '<rootDir>/test/support/unit-setup.ts',
      testMatch: ['<rootDir>/apps/api/src/**/*.spec.ts', '<rootDir>/apps/worker/src/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
    },
    {
      ...node,
      displayName: 'integration',
      rootDir: __dirname,
      // Each suite sets its own (jest.setTimeout); this is the floor for one that forgets, so that
      // it does not depend on a timeout left by the suite before it in the same worker.
      testTimeout: 120_000,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
    {
      // The Angular app: jsdom, zoneless TestBed, specs compiled by jest-preset-angular.
      ...require('jest-preset-angular/presets').createCjsPreset({ tsconfig: '<rootDir>/apps/web/tsconfig.spec.json' }),
      displayName: 'web',
      rootDir: __dirname,
      testMatch: ['<rootDir>/apps/web/**/*.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/apps/web/src/test-setup.ts'],
      // ES modules among the web app's dependencies (thumbhash ships only ESM).
      transformIgnorePatterns: ['node_modules/(?!(.*\\.mjs$|thumbhash/))'],
      moduleNameMapper: { '^@app/shared$': '<rootDir>/libs/shared/src' },
    },
  ],
};
