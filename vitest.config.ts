import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { createModelService } from './test/workers/model-service.ts';

// Offline: miniflare would otherwise try to download Request.cf data for the workers project.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

const mirror = process.env.HONNX_MIRROR ?? join(import.meta.dirname, '../shared/models');
const workerdTests = 'test/workers/**/*.workerd.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [workerdTests, '**/node_modules/**'],
          globalSetup: ['test/fixtures/global-setup.ts'],
          // Accuracy runs over whole held-out splits on the WASM engine take tens of seconds on 2 cores.
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        // The task suite and the Workers runtime inside workerd, as `wrangler dev` and Cloudflare run them.
        plugins: [
          cloudflareTest({
            miniflare: {
              compatibilityDate: '2026-04-01',
              // ONNX Runtime's binary is imported as a module workerd compiles, as wrangler's CompiledWasm rule does.
              modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
              // A local R2 bucket, filled by the test of R2 model delivery.
              r2Buckets: ['MODEL_BUCKET'],
              // Models reach workerd through a service binding implemented in Node, never as copies.
              serviceBindings: {
                MODELS: createModelService({
                  shared: mirror,
                  generated: join(import.meta.dirname, '.cache/tiny-models'),
                  quantized: join(import.meta.dirname, '.cache/quantized-models'),
                }),
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: [workerdTests],
          globalSetup: ['test/fixtures/global-setup.ts', 'test/workers/quantized-global-setup.ts', 'test/workers/function-set-global-setup.ts'],
          // The first use of ONNX Runtime in an isolate compiles 14 MB of WASM: 6-8 s on 2 cores.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
