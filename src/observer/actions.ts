import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Breaker } from '../breaker/index.js';
import { isSupervisorError } from '../supervisor/index.js';
import { errorMessage } from './child-history.js';
import { isDynamic, type ObservedSupervisor } from './read-supervisors.js';

/** The most bytes an action's body may have. */
export const MAX_ACTION_BODY_BYTES = 16 * 1024;

/** The actions, by the path under `{base}/actions/`. */
export const ACTION_PATHS = Object.freeze({
  'child/restart': 'restart',
  'child/terminate': 'terminate',
  'breaker/melt': 'melt',
  'breaker/reset': 'reset',
  'breaker/isolate': 'isolate',
  'breaker/restore': 'restore',
} as const);

/** The name of an action. */
export type ObserverAction = (typeof ACTION_PATHS)[keyof typeof ACTION_PATHS];

/** An HTTP answer: status and JSON body. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether an `Authorization` header carries the bearer `token`. The comparison takes the same
 * time whatever the header holds: both sides are hashed to 32 bytes and compared with
 * `crypto.timingSafeEqual`, so neither the token's length nor its first differing byte leaks.
 */
export function bearerMatches(header: string | string[] | undefined, token: string): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = match?.[1] ?? '';
  // Compared even when the header is malformed, so a malformed header takes as long as a wrong token.
  const same = timingSafeEqual(sha256(given), sha256(token));
  return match !== null && same;
}

/** The answer to a request without the right token. */
export const UNAUTHORIZED: Answer = Object.freeze({
  status: 401,
  body: { error: 'ERR_UNAUTHORIZED', message: 'an action needs Authorization: Bearer <token>' },
  headers: { 'www-authenticate': 'Bearer realm="overseer-observer"' },
});

/**
 * Reads a JSON object body of at most {@link MAX_ACTION_BODY_BYTES}. Settles once: with the
 * object, or with the answer that refuses it (415 not JSON, 413 too large, 400 not an object);
 * a request that closes before its end settles it with 400. The request owns the wait: it ends
 * with the body's end, its error, or its close.
 */
export function readJsonBody(request: IncomingMessage): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; answer: Answer }> {
  const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    request.resume();
    return Promise.resolve({ ok: false, answer: { status: 415, body: { error: 'ERR_UNSUPPORTED_MEDIA_TYPE', message: 'an action body must be application/json' } } });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: { ok: true; value: Record<string, unknown> } | { ok: false; answer: Answer }): void => {
      if (settled) return;
      settled = true;
      request.off('data', onData);
      resolve(result);
    };
    const refuse = (status: number, error: string, message: string): void => settle({ ok: false, answer: { status, body: { error, message } } });
    const onData = (chunk: Buffer | string): void => {
      size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (size > MAX_ACTION_BODY_BYTES) {
        refuse(413, 'ERR_BODY_TOO_LARGE', `an action body is at most ${MAX_ACTION_BODY_BYTES} bytes`);
        request.resume();
        return;
      }
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return refuse(400, 'ERR_BAD_REQUEST', 'the body is not JSON');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse(400, 'ERR_BAD_REQUEST', 'the body must be a JSON object');
      settle({ ok: true, value: value as Record<string, unknown> });
    });
    request.once('error', () => refuse(400, 'ERR_BAD_REQUEST', 'the request failed while its body was read'));
    request.once('close', () => refuse(400, 'ERR_BAD_REQUEST', 'the request closed before its body ended'));
  });
}

/** A required string field of an action body, or the 400 naming it. */
function field(body: Record<string, unknown>, name: string): { ok: true; value: string } | { ok: false; answer: Answer } {
  const value = body[name];
  if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return { ok: true, value };
  return { ok: false, answer: { status: 400, body: { error: 'ERR_BAD_REQUEST', message: `"${name}" must be a non-empty string of at most 1024 characters`, field: name } } };
}

/** A supervisor's answer to a child request that failed, as HTTP: 404 for a child it does not have, 409 otherwise. */
function supervisorFailure(error: unknown, supervisor: string, child: string): Answer {
  if (isSupervisorError(error)) {
    const status = error.code === 'not_found' ? 404 : 409;
    return { status, body: { error: `ERR_CHILD_${error.code.toUpperCase()}`, message: errorMessage(error), supervisor, child } };
  }
  return { status: 500, body: { error: 'ERR_ACTION_FAILED', message: errorMessage(error), supervisor, child } };
}

/**
 * `restart`: a running child is terminated (`terminateChild`, a shutdown, not a crash) and started
 * again (`restartChild`); a stopped one, or one waiting out a backoff, is started now. Neither
 * counts against the restart intensity, as in OTP. `terminate`: `terminateChild`. A dynamic
 * supervisor's children can be terminated, not restarted (409), as OTP's `simple_one_for_one`.
 */
export async function childAction(
  action: 'restart' | 'terminate',
  body: Record<string, unknown>,
  find: (id: string) => ObservedSupervisor | undefined,
): Promise<Answer> {
  const supervisorField = field(body, 'supervisor');
  if (!supervisorField.ok) return supervisorField.answer;
  const childField = field(body, 'child');
  if (!childField.ok) return childField.answer;
  const supervisorId = supervisorField.value;
  const childId = childField.value;
  const supervisor = find(supervisorId);
  if (supervisor === undefined) {
    return { status: 404, body: { error: 'ERR_NOT_FOUND', message: `no supervisor '${supervisorId.slice(0, 64)}' in the observed trees`, supervisor: supervisorId.slice(0, 64) } };
  }
  const child = supervisor.whichChildren().find((info) => info.id === childId);
  if (child === undefined) {
    return { status: 404, body: { error: 'ERR_NOT_FOUND', message: `supervisor '${supervisorId}' has no child '${childId.slice(0, 64)}'`, supervisor: supervisorId, child: childId.slice(0, 64) } };
  }
  try {
    if (action === 'terminate') {
      await supervisor.terminateChild(childId);
    } else {
      if (isDynamic(supervisor)) {
        return { status: 409, body: { error: 'ERR_NOT_SUPPORTED', message: 'a dynamic supervisor restarts no child by hand (terminate it instead)', supervisor: supervisorId, child: childId } };
      }
      if (child.ref !== undefined || child.restarting === true) await supervisor.terminateChild(childId);
      await supervisor.restartChild(childId);
    }
  } catch (error) {
    return supervisorFailure(error, supervisorId, childId);
  }
  return { status: 200, body: { ok: true, action, supervisor: supervisorId, child: childId } };
}

/** `melt` records a failure, `reset` closes it, `isolate` disables it (refusing every call), `restore` enables it again. */
export function breakerAction(action: 'melt' | 'reset' | 'isolate' | 'restore', body: Record<string, unknown>, find: (name: string) => Breaker | undefined): Answer {
  const nameField = field(body, 'breaker');
  if (!nameField.ok) return nameField.answer;
  const name = nameField.value;
  const breaker = find(name);
  if (breaker === undefined) {
    return { status: 404, body: { error: 'ERR_NOT_FOUND', message: `no running breaker '${name.slice(0, 64)}' is observed`, breaker: name.slice(0, 64) } };
  }
  if (action === 'melt') breaker.melt();
  else if (action === 'reset') breaker.reset();
  else if (action === 'isolate') breaker.disable();
  else breaker.enable();
  return { status: 200, body: { ok: true, action, breaker: name, state: breaker.state() } };
}
