import {defineConfig} from 'vitest/config'

// Two projects: unit tests run without servers; integration tests get the three real servers
// (Prosody 13, ejabberd 24.12, ejabberd 26.07) started once by test/global-setup.ts, which
// only runs when integration test files are selected. See test/servers/README.md.
export default defineConfig({
  test: {
    // 2-core machines: at most two test files at a time (integration tests spawn CLI processes)
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
