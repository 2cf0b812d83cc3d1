import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@iam-ra/source"] },
  ssr: { resolve: { conditions: ["@iam-ra/source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    restoreMocks: true,
    clearMocks: true,
    allowOnly: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
