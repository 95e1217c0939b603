// Lint rules. src/workflows runs in Temporal's deterministic sandbox: no I/O, no Node built-ins,
// and only activity *types* from src/activities.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules', '.tools', '.data', 'lib', 'dist', 'artifacts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows must not use Node built-ins.' })),
            { name: 'axios', message: 'Workflows must not do I/O; call an activity.' },
          ],
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Import activity types only.',
            },
            {
              group: ['../config', '../ingress/*', '../secrets/*'],
              message: 'Workflows must not read configuration or secrets.',
            },
            {
              group: ['../shared/validation'],
              allowTypeImports: true,
              message:
                'Its schemas are built at module level; take them from ./schemas (built once per workflow thread) and helpers from ../shared/schemas.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch', 'require'],
    },
  },
);
