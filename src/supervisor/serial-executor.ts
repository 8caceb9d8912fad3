/** One unit of supervisor work; may finish synchronously or return a promise. */
export type Operation = () => void | Promise<void>;

function isPromise(value: unknown): value is Promise<void> {
  return typeof (value as Promise<void> | undefined)?.then === 'function';
}

/**
 * Runs a supervisor's operations one at a time, in order, like the messages of an Erlang
 * process's mailbox. Synchronous operations run at once when nothing else is running, so a crash
 * and its restart cost no promise or microtask; an operation that returns a promise holds the
 * queue until it settles. Errors inside operations are the operations' own business: they are
 * passed to `onError` and never stop the queue.
 */
export class SerialExecutor {
  private readonly queue: Operation[] = [];
  private queueHead = 0;
  private busy = false;

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Runs `operation` now if idle, else after the operations queued before it. */
  run(operation: Operation): void {
    this.queue.push(operation);
    if (!this.busy) this.drain();
  }

  /** Runs `operation` in turn and settles with its outcome. */
  call<T>(operation: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.run(() => {
        let result: T | Promise<T>;
        try {
          result = operation();
        } catch (error) {
          reject(error);
          return;
        }
        if (isPromise(result)) return (result as Promise<T>).then(resolve, reject);
        resolve(result as T);
      });
    });
  }

  private drain(): void {
    this.busy = true;
    while (this.queueHead < this.queue.length) {
      const operation = this.queue[this.queueHead]!;
      this.queue[this.queueHead] = undefined as unknown as Operation;
      this.queueHead += 1;
      let outcome: void | Promise<void>;
      try {
        outcome = operation();
      } catch (error) {
        this.onError(error);
        continue;
      }
      if (isPromise(outcome)) {
        outcome.then(
          () => this.drain(),
          (error: unknown) => {
            this.onError(error);
            this.drain();
          },
        );
        return;
      }
    }
    this.queue.length = 0;
    this.queueHead = 0;
    this.busy = false;
  }
}
