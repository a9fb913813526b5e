// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// The pure rules sit on the bottom floor: no framework, driver or broker client reaches them.
const NO_FRAMEWORKS_IN_DOMAIN = {
  group: ['@nestjs/*', 'typeorm', 'typeorm/*', 'kafkajs', 'ioredis', 'mysql2', 'mysql2/*'],
  message: 'src/domain holds plain rules: keep Nest, TypeORM, kafkajs, ioredis and mysql2 out.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'eslint.config.mjs', 'jest.config.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // The bench's preloads are plain CommonJS, outside the TypeScript project.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Jest's asymmetric matchers (expect.any, expect.objectContaining) are typed `any`.
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [NO_FRAMEWORKS_IN_DOMAIN],
        },
      ],
    },
  },
  {
    // Its code (not its specs, which may use the test helpers) imports nothing above it either.
    files: ['src/domain/**/*.ts'],
    ignores: ['src/domain/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_FRAMEWORKS_IN_DOMAIN,
            {
              group: ['../*', '!../common'],
              message: 'src/domain may import only src/common: every import points down.',
            },
          ],
        },
      ],
    },
  },
  prettier,
);
