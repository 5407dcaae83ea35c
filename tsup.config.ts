import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'http/index': 'src/http/index.ts',
    'postgres/index': 'src/stores/postgres/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/conformance': 'src/testing/conformance-index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // No source maps in the package: they would point at src/, which is not shipped, and the
  // output is unminified, readable ES2022 with the same names as the source.
  sourcemap: false,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  external: ['pg', '@electric-sql/pglite', 'vitest', '@opentelemetry/api'],
  // import.meta.url in the CJS build (observability/otel.ts finds the optional
  // @opentelemetry/api with createRequire(import.meta.url)).
  shims: true,
});
