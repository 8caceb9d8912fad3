export { createObserver, type Observer } from './create-observer.js';
export type { ObserverOptions, ObservedPool } from './options.js';
export type {
  ObserverSnapshot,
  ObserverDelta,
  SupervisorView,
  ChildView,
  ChildStatus,
  ChildCountsView,
  PageView,
  ExitView,
  BreakerView,
  PoolView,
  ThreadPoolView,
  LimiterView,
  LeaseView,
  EventView,
} from './views.js';
