import { defineConfig } from "vitest/config";

/** The vitest settings every package uses; each package's vitest.config.ts re-exports this. */
export const sharedConfig = defineConfig({
  // Read sibling packages from source (the "@iam-ra/source" export condition), never a stale dist.
  resolve: { conditions: ["@iam-ra/source"] },
  ssr: { resolve: { conditions: ["@iam-ra/source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    restoreMocks: true,
    clearMocks: true,
    allowOnly: false,
    // Tests start real servers and spawn openssl, python and the aws CLI.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
