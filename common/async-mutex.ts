// A mutual exclusion lock for async code in one process: run(fn) starts fn once every earlier
// run has settled. Written here rather than taken from npm (async-mutex) because this is all
// that is needed: a promise chain, no timeouts, no cancellation.
export class AsyncMutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => {});
    return result;
  }
}
