import { Observable, Subscriber, type Observer, type Operator, type OperatorFunction, type Subscription, type TeardownLogic } from 'rxjs';

/** Where a guarded observable sends what a subscriber's callback threw. */
export type SubscriberErrorReport = (error: unknown) => void;

type Callback<V> = (value: V) => void;

function guarded<V>(callback: Callback<V>, report: SubscriberErrorReport, context?: unknown): Callback<V> {
  return (value: V) => {
    try {
      callback.call(context, value);
    } catch (error) {
      report(error);
    }
  };
}

function guardedCompletion(callback: () => void, report: SubscriberErrorReport, context?: unknown): () => void {
  return () => {
    try {
      callback.call(context);
    } catch (error) {
      report(error);
    }
  };
}

/**
 * An RxJS `Observable` whose subscribers cannot break it nor the process: a `next`, `error` or
 * `complete` callback that throws is caught and handed to `report`, where RxJS would hand it to
 * the global `config.onUnhandledError` (by default: rethrown on a timer, which ends a Node
 * process). A subscriber without an `error` callback has its stream's error reported the same
 * way. Operators keep the guard: `pipe` builds guarded observables (`lift` is overridden), so
 * `events$.pipe(filter(...)).subscribe(fn)` is guarded too, and an operator that returns an
 * observable of its own instead of lifting (RxJS's `take(0)` returns `EMPTY`; a hand-written
 * `(source) => new Observable(...)`) has its result wrapped by `pipe`. No global setting is changed.
 *
 * Hot path: the events' own path (`Subject.next`) is untouched; each delivery to a subscriber costs
 * one extra function call.
 */
export class GuardedObservable<T> extends Observable<T> {
  constructor(
    private readonly report: SubscriberErrorReport,
    subscribe?: (this: Observable<T>, subscriber: Subscriber<T>) => TeardownLogic,
  ) {
    super(subscribe);
  }

  override subscribe(
    observerOrNext?: Partial<Observer<T>> | Callback<T> | null,
    error?: Callback<unknown> | null,
    complete?: (() => void) | null,
  ): Subscription {
    // Operators subscribe to their source with their own subscribers: those are RxJS's, and they
    // already route their callbacks' errors down the chain.
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    const report = this.report;
    if (typeof observerOrNext === 'function' || observerOrNext === undefined || observerOrNext === null) {
      return super.subscribe({
        next: typeof observerOrNext === 'function' ? guarded(observerOrNext, report) : undefined,
        error: typeof error === 'function' ? guarded(error, report) : report,
        complete: typeof complete === 'function' ? guardedCompletion(complete, report) : undefined,
      });
    }
    const observer = observerOrNext;
    return super.subscribe({
      next: typeof observer.next === 'function' ? guarded(observer.next, report, observer) : undefined,
      error: typeof observer.error === 'function' ? guarded(observer.error, report, observer) : report,
      complete: typeof observer.complete === 'function' ? guardedCompletion(observer.complete, report, observer) : undefined,
    });
  }

  /**
   * Applies `operations` in order, as RxJS's `pipe` does, and guards the result when the last of
   * them built an observable without `lift` (which would otherwise hand the subscriber's callbacks to
   * RxJS unguarded).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override pipe(...operations: Array<OperatorFunction<any, any>>): Observable<any> {
    const piped = operations.reduce<Observable<unknown>>((source, operation) => operation(source), this);
    if (piped instanceof GuardedObservable) return piped;
    return new GuardedObservable(this.report, (subscriber) => piped.subscribe(subscriber));
  }

  /** Keeps the guard through operators: RxJS 7's `pipe` builds each step with `lift`. */
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const lifted = new GuardedObservable<R>(this.report);
    lifted.source = this;
    lifted.operator = operator;
    return lifted;
  }
}
