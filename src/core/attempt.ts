/**
 * Runs a synchronous operation as a promise: its value (or the promise it returns) resolves, what
 * it throws rejects. For the async face of a synchronous API, which must never throw synchronously.
 */
export function attempt<T>(run: () => T | PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}
