import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A timeout here only catches a hang: what a test must finish within, it asserts itself. On a
    // 2-core machine kept busy, a test that restarts replicas takes three times its quiet time
    // (a rolling restart of three: 8 s quiet, 19-30 s under stress-ng --cpu 2).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end files start several server processes each; two files at a time suit two cores.
    maxWorkers: 2,
    pool: 'forks',
  },
});
