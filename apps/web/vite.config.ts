/**
 * Builds the meeting app into dist/ (served by `pinhole serve` at /). The SDK and the
 * protocol package are bundled from their TypeScript sources through the `pinhole-source`
 * export condition, so the app never depends on a stale packages/client/dist.
 */
import { defineConfig, defaultClientConditions } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  resolve: { conditions: ['pinhole-source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Hashed file names: `pinhole serve` caches /assets/* for a year.
    assetsDir: 'assets',
  },
});
