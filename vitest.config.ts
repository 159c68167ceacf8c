import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end files start several server processes each; two files at a time suit two cores.
    maxWorkers: 2,
    pool: 'forks',
  },
});
