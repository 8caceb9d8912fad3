import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Observer } from '../../../src/observer.js';

/**
 * A request and a response shaped as node:http's, for driving an observer without sockets: the
 * response records what is written, and can play a client that reads nothing (`reading = false`:
 * every write is held, `writableLength` grows and `write` returns false, as on a socket whose
 * peer stopped reading).
 */
export class FakeResponse extends EventEmitter {
  status: number | undefined;
  headers: Record<string, string> = {};
  headersSent = false;
  readonly chunks: string[] = [];
  ended = false;
  destroyed = false;
  writableLength = 0;
  /** False: a client that reads nothing (writes pile up). */
  reading = true;

  writeHead(status: number, headers: Record<string, string> = {}): this {
    this.status = status;
    this.headers = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    this.headersSent = true;
    return this;
  }

  write(chunk: string): boolean {
    if (this.ended || this.destroyed) throw new Error('write after end');
    this.chunks.push(chunk);
    if (this.reading) return true;
    this.writableLength += Buffer.byteLength(chunk);
    return false;
  }

  end(chunk?: string): this {
    if (chunk !== undefined) this.chunks.push(chunk);
    this.ended = true;
    this.emit('finish');
    this.emit('close');
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }

  /** The client going away (closing the tab). */
  hangUp(): void {
    this.emit('close');
  }

  get body(): string {
    return this.chunks.join('');
  }

  json(): any {
    return JSON.parse(this.body);
  }

  /** The SSE messages written so far (comments apart), parsed. */
  messages(): Array<{ id: number; event: string; data: any }> {
    return this.body
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => {
        const lines = block.split('\n');
        const field = (name: string): string => lines.find((line) => line.startsWith(`${name}: `))!.slice(name.length + 2);
        return { id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) };
      });
  }

  /** The comment lines (`: heartbeat`) written so far. */
  comments(): string[] {
    return this.body
      .split('\n')
      .filter((line) => line.startsWith(': '))
      .map((line) => line.slice(2));
  }
}

/** A request with `method`, `url`, `headers` and (for POST) a body. */
export function fakeRequest(method: string, url: string, options: { headers?: Record<string, string>; body?: string } = {}): IncomingMessage {
  const stream = Readable.from(options.body === undefined ? [] : [Buffer.from(options.body)]);
  return Object.assign(stream, { method, url, headers: options.headers ?? {} }) as unknown as IncomingMessage;
}

/** Sends one request (not an event stream) to the observer; resolves once the response has ended or the request was passed to `next`. */
export async function request(
  observer: Observer,
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string; next?: () => void } = {},
): Promise<FakeResponse> {
  const response = new FakeResponse();
  let passedOn: (() => void) | undefined;
  const done = new Promise<void>((resolve) => {
    response.once('finish', resolve);
    passedOn = () => {
      options.next?.();
      resolve();
    };
  });
  observer(fakeRequest(method, url, options), response as unknown as ServerResponse, options.next === undefined ? undefined : passedOn);
  await done;
  return response;
}

/** Opens an event stream; the response keeps receiving until it hangs up. */
export function openStream(observer: Observer, options: { headers?: Record<string, string> } = {}, base = '/observer'): FakeResponse {
  const response = new FakeResponse();
  observer(fakeRequest('GET', `${base}/events`, options), response as unknown as ServerResponse);
  return response;
}
