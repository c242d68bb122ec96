// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The modules of src/web without DOM code: the connection and what it uses (README). */
const CLIENT_LIBRARY =
  'src/web/{changes,connection,connection-types,cursor,emitter,feed,messages,outbox,protocol,socket}.js';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'data', 'coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // The page's modules: browser globals through window (window.setTimeout, window.HTMLElement).
    files: ['src/web/**/*.js'],
    ignores: [CLIENT_LIBRARY],
    languageOptions: { globals: { window: 'readonly', document: 'readonly' } },
  },
  {
    // The client library runs in browsers and under Node: only what both have, no DOM.
    files: [CLIENT_LIBRARY],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'queueMicrotask',
          'URL',
          'URLSearchParams',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  { files: ['eslint.config.js'], extends: [tseslint.configs.disableTypeChecked] },
);
