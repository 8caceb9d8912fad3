/**
 * The example back end's request input, read strictly: pure functions from a request target and
 * its query to a value or a refusal the back end answers with 400. No I/O here (backend.ts answers).
 */

/** A request input the back end refuses, answered `400 { error: 'ERR_BAD_REQUEST', parameter, value, message }`. */
export interface BadInput {
  readonly ok: false;
  /** The query parameter at fault, or `'url'` for a target that is no URL. */
  readonly parameter: string;
  /** What was given, cut to {@link maxEchoedChars} characters. */
  readonly value: string;
  readonly message: string;
}

/** A request input read: its value, or why it is refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | BadInput;

/** The most characters of a client's input an answer echoes back. */
export const maxEchoedChars = 64;

/** `text` cut to at most {@link maxEchoedChars} characters, an ellipsis marking the cut. */
export function echoed(text: string): string {
  return text.length <= maxEchoedChars ? text : `${text.slice(0, maxEchoedChars - 1)}…`;
}

function refused(parameter: string, value: string, message: string): BadInput {
  return { ok: false, parameter, value: echoed(value), message };
}

/**
 * The URL of a request target (`/cpu?n=3`), or a refusal: Node's parser lets through targets
 * such as `//[` that `new URL` cannot read.
 */
export function parseTarget(target: string): Parsed<URL> {
  try {
    return { ok: true, value: new URL(target, 'http://localhost') };
  } catch {
    return refused('url', target, 'the request target is not a URL');
  }
}

/** The one value of a query parameter: `undefined` when absent, a refusal when given more than once. */
function single(query: URLSearchParams, name: string): Parsed<string | undefined> {
  const values = query.getAll(name);
  if (values.length > 1) return refused(name, values.join(','), `${name} must be given at most once`);
  return { ok: true, value: values[0] };
}

/** The range and default of an integer query parameter. */
export interface IntegerRange {
  readonly min: number;
  readonly max: number;
  /** Taken when the parameter is absent or empty. */
  readonly fallback: number;
}

/**
 * An integer query parameter clamped into `[min, max]`: absent or empty gives `fallback`; decimal
 * digits with an optional sign are clamped, however many (`3000000000` → `max`); anything else
 * (`1.5`, `1e3`, `0x10`, `abc`, spaces) is refused, as is a parameter given twice.
 *
 * @example
 * ```ts
 * clampedInteger(new URLSearchParams('n=3000000000'), 'n', { min: 1, max: 32, fallback: 25 }); // { ok: true, value: 32 }
 * ```
 */
export function clampedInteger(query: URLSearchParams, name: string, range: IntegerRange): Parsed<number> {
  const given = single(query, name);
  if (!given.ok) return given;
  const text = given.value;
  if (text === undefined || text === '') return { ok: true, value: range.fallback };
  if (!/^[+-]?\d+$/.test(text)) {
    return refused(name, text, `${name} must be an integer (decimal digits); it is clamped into [${range.min}, ${range.max}]`);
  }
  // Number() of a long run of digits is ±Infinity, which the clamp turns into an end of the range.
  return { ok: true, value: Math.min(range.max, Math.max(range.min, Number(text))) };
}

/** A query parameter that must be given once and not be empty. */
export function requiredText(query: URLSearchParams, name: string): Parsed<string> {
  const given = single(query, name);
  if (!given.ok) return given;
  if (given.value === undefined || given.value === '') return refused(name, given.value ?? '', `${name} is required`);
  return { ok: true, value: given.value };
}
