/**
 * hookline's version, as a constant so it survives bundling (ESM and CJS) without reading
 * `package.json` at run time. Kept in sync with `package.json` at release time.
 *
 * @example
 * ```ts
 * console.log(`hookline ${VERSION}`);
 * ```
 */
export const VERSION = '0.1.0';
