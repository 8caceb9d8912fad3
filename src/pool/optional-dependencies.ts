import { createRequire } from 'node:module';

/**
 * piscina and undici, loaded on first use rather than when the package is imported: importing
 * overseer must not pay for them (undici alone takes ~250 ms to load on a cold start) nor load
 * them at all in a back end that never starts a thread pool or an HTTP pool. Both are CommonJS
 * packages, so `require` loads them synchronously, from inside synchronous factories too.
 */
const requireOptional = createRequire(import.meta.url);

let piscina: typeof import('piscina') | undefined;
let undici: typeof import('undici') | undefined;

/** The piscina module, loaded on the first call. */
export function loadPiscina(): typeof import('piscina') {
  return (piscina ??= requireOptional('piscina') as typeof import('piscina'));
}

/** The undici module, loaded on the first call. */
export function loadUndici(): typeof import('undici') {
  return (undici ??= requireOptional('undici') as typeof import('undici'));
}
