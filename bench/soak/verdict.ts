/**
 * The soak's rules, as pure functions of what the run recorded: which answers count as answered,
 * and what counts as growth of the heap or of the handles. docs/verification.md states the same
 * rules in words; the constants here are the thresholds it quotes.
 */

/** A stretch of time during which the upstream was told to misbehave. */
export interface FaultWindow {
  kind: 'upstream-failing' | 'upstream-slow';
  /** ms since the epoch, taken before the back end was told. */
  from: number;
  /** ms since the epoch, taken once the back end answered that the fault is over; `undefined` while it lasts. */
  to: number | undefined;
}

/**
 * How long after an upstream fault ends a 502/504 still counts as that fault passed on: a request
 * sent just before the end is answered up to the breaker's call timeout (1 s) later.
 */
export const UPSTREAM_GRACE_MS = 3_000;

/** The routes whose answer comes from the upstream (502 and 504 are their answers to its failures). */
const UPSTREAM_ROUTES: ReadonlySet<string> = new Set(['/quote', '/direct/quote']);

/**
 * Judges one answer: `'ok'` for 2xx, 429 or 503 with a body in the route's format (JSON with an
 * `error` field for 429/503; Prometheus text for `GET /metrics` 200); `'upstream-passed-on'` for
 * a 502 (upstream failure) or 504 (upstream too slow) with a JSON error body on an upstream route
 * while an upstream fault lasts or within {@link UPSTREAM_GRACE_MS} after it; otherwise the reason
 * it is refused.
 */
export function judgeAnswer(route: string, status: number, body: string, at: number, upstreamFaults: readonly FaultWindow[]): string {
  if (body.length === 0) return 'empty body';
  if (route === '/metrics' && status === 200) return body.startsWith('# ') ? 'ok' : 'a /metrics body that is not Prometheus text';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'a body that is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'a JSON body that is not an object';
  const isError = typeof (parsed as { error?: unknown }).error === 'string';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || status === 503) return isError ? 'ok' : `a ${status} without an error code`;
  if ((status === 502 || status === 504) && UPSTREAM_ROUTES.has(route) && isError) {
    const during = upstreamFaults.some((fault) => at >= fault.from && at <= (fault.to ?? Number.POSITIVE_INFINITY) + UPSTREAM_GRACE_MS);
    return during ? 'upstream-passed-on' : `a ${status} outside every upstream fault window`;
  }
  return `status ${status} is not an allowed answer`;
}

/** The least-squares slope of `y` over `x` (0 for fewer than two distinct `x`). */
export function leastSquaresSlope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  let sumX = 0;
  let sumY = 0;
  for (const { x, y } of points) {
    sumX += x;
    sumY += y;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let covariance = 0;
  let variance = 0;
  for (const { x, y } of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** The median of `values` (mean of the two middle ones); NaN for none. */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The run must last this many minutes for the growth rule to have a second minute and a distinct last minute. */
export const MIN_GROWTH_MINUTES = 3;

/** Heap growth allowed: 10 % of the second minute's floor of the heap (after a full collection), at least 1 MiB. */
export const HEAP_GROWTH_SHARE = 0.1;
export const HEAP_GROWTH_FLOOR_BYTES = 1_048_576;
/**
 * Growth allowed of the back end's own handles (active resources less the server's sockets):
 * 10, as the count moves with the calls in flight (a timer and an immediate or two each).
 */
export const HANDLE_GROWTH_ALLOWED = 10;
/** Growth allowed of the server's open sockets (the load's connections, fixed by the harness, and the sampler's): 3. */
export const SOCKET_GROWTH_ALLOWED = 3;
/** Event-loop delay p99 over the whole run must stay below this, ms. */
export const EVENT_LOOP_P99_LIMIT_MS = 50;

/** How one series grew from the second minute to the end. */
export interface Growth {
  /** The floor of each judged minute, 2 … N: the smallest of the samples taken in it. */
  floors: Array<{ minute: number; floor: number }>;
  /** The floor of the second minute (60 s ≤ t < 120 s). */
  secondMinuteFloor: number;
  /** The floor of the last minute ((N − 1)·60 s ≤ t ≤ N·60 s). */
  lastMinuteFloor: number;
  /** lastMinuteFloor − secondMinuteFloor. */
  delta: number;
  /** Least-squares slope of the floors of minutes 2 … N over the minute number, per minute. */
  slopePerMinute: number;
  /** slopePerMinute × (N − 2): the growth that trend amounts to from the second minute to the last. */
  trendGrowth: number;
  /** The most either may be. */
  allowed: number;
  pass: boolean;
  /** Why it could not be judged, when it could not. */
  unjudged?: string;
}

/** A sample's time (s since the load started) and value. */
export interface Point {
  t: number;
  value: number;
}

/**
 * The growth rule, on the floor of each minute (the smallest sample in it): a resource that
 * leaks raises the floor, while one held only during a fault (calls in flight while the upstream
 * is slow, a flood's connections) lifts some samples of a minute and leaves its floor alone. A
 * series passes when both the change of the floor from the second minute to the last (minute
 * `minutes`) and the growth its least-squares trend over minutes 2 … `minutes` amounts to are at
 * most `allowed(secondMinuteFloor)`. Minute k holds the samples with (k − 1)·60 ≤ t < k·60, the
 * last minute also the sample at t = `minutes`·60. Runs shorter than
 * {@link MIN_GROWTH_MINUTES} minutes cannot be judged and fail.
 */
export function assessGrowth(points: readonly Point[], minutes: number, allowed: (secondMinuteFloor: number) => number): Growth {
  const floors: Array<{ minute: number; floor: number }> = [];
  for (let minute = 2; minute <= minutes; minute += 1) {
    const from = (minute - 1) * 60;
    const to = minute * 60;
    const values = points.filter((point) => point.t >= from && (point.t < to || (minute === minutes && point.t <= to + 1))).map((point) => point.value);
    if (values.length > 0) floors.push({ minute, floor: Math.min(...values) });
  }
  const second = floors.find((entry) => entry.minute === 2);
  const last = floors.find((entry) => entry.minute === minutes);
  const secondMinuteFloor = second?.floor ?? Number.NaN;
  const lastMinuteFloor = last?.floor ?? Number.NaN;
  const slopePerMinute = leastSquaresSlope(floors.map((entry) => ({ x: entry.minute, y: entry.floor })));
  const trendGrowth = slopePerMinute * (minutes - 2);
  const limit = allowed(secondMinuteFloor);
  const delta = lastMinuteFloor - secondMinuteFloor;
  const growth = { floors, secondMinuteFloor, lastMinuteFloor, delta, slopePerMinute, trendGrowth, allowed: limit };
  if (minutes < MIN_GROWTH_MINUTES) return { ...growth, pass: false, unjudged: `a run of ${minutes} min has no distinct last minute; the rule needs ${MIN_GROWTH_MINUTES}` };
  if (second === undefined || last === undefined) return { ...growth, pass: false, unjudged: 'no sample in the second or the last minute' };
  return { ...growth, pass: delta <= limit && trendGrowth <= limit };
}

/** The heap's allowance: {@link HEAP_GROWTH_SHARE} of its second-minute floor, at least {@link HEAP_GROWTH_FLOOR_BYTES}. */
export function heapAllowance(secondMinuteFloor: number): number {
  return Math.max(HEAP_GROWTH_SHARE * secondMinuteFloor, HEAP_GROWTH_FLOOR_BYTES);
}

/** One line of the verdict. */
export interface Check {
  rule: string;
  measured: string;
  threshold: string;
  pass: boolean;
}
