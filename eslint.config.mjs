// Lint for every TypeScript source: the Nest apps and libs, the tests, the bench, and the Angular app
// (with angular-eslint's component and template rules). Type-checked rules from typescript-eslint;
// formatting is Prettier's business (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js';
import angular from 'angular-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const typeChecked = {
  languageOptions: {
    parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
  },
};

/** Rules shared by the server and the web app. */
const rules = {
  // Unused arguments are often part of a signature (Nest hooks, callbacks); prefix with _ to say so.
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
  // Template literals with numbers and booleans are fine; objects and nullish values are not.
  '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
  // A floating promise must be awaited, returned, or marked `void` on purpose.
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
  // Abstract ports and Nest lifecycle hooks legitimately declare async methods without awaiting.
  '@typescript-eslint/require-await': 'error',
  'no-console': 'off',
  eqeqeq: ['error', 'always', { null: 'ignore' }],
  'no-restricted-imports': [
    'error',
    { patterns: [{ group: ['**/libs/*/src/**', '../../libs/**'], message: 'Import a lib through its @app/<lib> alias.' }] },
  ],
};

export default tseslint.config(
  // An eslint-disable comment that no longer disables anything is an error: none stays behind.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'test-output/**', 'bench-output/**', '.angular/**', '**/*.d.ts'],
  },
  {
    files: ['**/*.ts'],
    ignores: ['apps/web/**'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked, prettier],
    ...typeChecked,
    languageOptions: { ...typeChecked.languageOptions, globals: globals.node },
    rules,
  },
  {
    files: ['apps/web/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked, ...angular.configs.tsRecommended, prettier],
    languageOptions: {
      // The app's and the specs' tsconfigs (the specs see jest's globals; the app does not).
      parserOptions: { project: ['apps/web/tsconfig.app.json', 'apps/web/tsconfig.spec.json'], tsconfigRootDir: import.meta.dirname },
      globals: globals.browser,
    },
    processor: angular.processInlineTemplates,
    rules: {
      ...rules,
      '@angular-eslint/directive-selector': ['error', { type: 'attribute', prefix: 'app', style: 'camelCase' }],
      '@angular-eslint/component-selector': ['error', { type: 'element', prefix: 'app', style: 'kebab-case' }],
      // Angular's validators are static functions (`Validators.required`), passed unbound by design.
      '@typescript-eslint/unbound-method': ['error', { ignoreStatic: true }],
    },
  },
  {
    files: ['apps/web/**/*.html'],
    extends: [...angular.configs.templateRecommended, ...angular.configs.templateAccessibility],
  },
  {
    // Specs use jest's matchers (`expect.any(...)` is typed any) and build fixtures freely.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'apps/web/src/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    extends: [js.configs.recommended, prettier],
    languageOptions: { globals: { ...globals.node }, sourceType: 'module' },
  },
  {
    files: ['**/*.js'],
    ignores: ['**/*.mjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
