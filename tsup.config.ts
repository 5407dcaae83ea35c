import { defineConfig } from 'tsup';

const external = ['pg', '@electric-sql/pglite', 'vitest', '@opentelemetry/api'];

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'http/index': 'src/http/index.ts',
      'postgres/index': 'src/stores/postgres/index.ts',
      'testing/index': 'src/testing/index.ts',
      'testing/conformance': 'src/testing/conformance-index.ts',
      'ui/index': 'src/ui/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // No source maps in the package: they would point at src/, which is not shipped, and the
    // output is unminified, readable ES2022 with the same names as the source.
    sourcemap: false,
    // Everything but the CLI, which the second build writes (the two run at the same time).
    clean: ['!cli.js'],
    target: 'node20',
    splitting: true,
    treeshake: true,
    external,
    // import.meta.url in the CJS build (observability/otel.ts finds the optional
    // @opentelemetry/api with createRequire(import.meta.url)).
    shims: true,
  },
  {
    // The `hookline` program (package.json "bin"): one ES module, its shebang kept, made
    // executable by tsup. Not an entry point of the library: nothing imports it.
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    splitting: false,
    treeshake: true,
    external,
  },
]);
