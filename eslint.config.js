import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.tmp/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      // The pure core: no I/O and no clock reads (DESIGN.md, "One deterministic core").
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', '../store/*', '../engine/*', '../cli/*', 'better-sqlite3', 'pg', 'kysely'] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'time is an input: take `now` as a parameter' },
        { object: 'Math', property: 'random', message: 'decide() is deterministic' },
      ],
    },
  },
);
