// Lint: typescript-eslint's recommended rules on src/ and test/, plus the few that catch unused or
// dead code. Formatting is Prettier's job (npm run format:check), not ESLint's.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist.new/**',
      'dist.old/**',
      'node_modules/**',
      'test/fixtures/**',
      'test/bench/out/**',
      '.sandbox/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {...globals.node}},
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'},
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': [
        'error',
        {'ts-ignore': 'allow-with-description', 'ts-expect-error': 'allow-with-description'},
      ],
      'no-empty': ['error', {allowEmptyCatch: true}],
      'prefer-const': 'error',
      eqeqeq: ['error', 'smart'],
      // Prettier wraps code at 110 columns but never strings or comments: this keeps those short too.
      'max-len': ['error', {code: 110, ignoreUrls: true, ignoreRegExpLiterals: true}],
    },
  },
  {
    // Tests read JSON documents and terminal output: loose types and ANSI escapes are their data.
    files: ['test/**'],
    rules: {'@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off'},
  },
)
