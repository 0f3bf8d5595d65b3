import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests spawn bin/pkictl.js, which runs the compiled dist/: `npm test` builds first.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
