import { defineConfig } from 'vitest/config';

// `npm run test:stress`: the full-size guarantee runs, kept out of `npm test` (minutes, not seconds).
export default defineConfig({
  test: {
    include: ['test/stress/**/*.stress.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
