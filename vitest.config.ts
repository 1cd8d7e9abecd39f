import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // tsc also compiles the tests into dist/; run only the sources.
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
