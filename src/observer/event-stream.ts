/**
 * Server-Sent Events: the framing of one message, and one client's stream with its bound on
 * unsent output.
 */

/** What a stream needs of a response (a `node:http` `ServerResponse` has it). */
export interface StreamResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  destroy(): unknown;
  /** Bytes written and not yet handed to the socket. */
  readonly writableLength: number;
  once(event: 'close', listener: () => void): unknown;
}

/** The response headers of an event stream: no caching, no proxy buffering. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
});

/**
 * One SSE message: `id`, `event` and the data as one line of JSON (JSON escapes line breaks, so
 * one `data:` line always holds it).
 */
export function sseMessage(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line, which EventSource ignores and proxies see as traffic. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

/** Why a stream ended. */
export type StreamEnd = 'closed' | 'slow' | 'stopped';

/**
 * One connected client. Writes never queue without bound: when what the response holds unsent
 * passes `maxBufferedBytes` (a client that reads slower than the observer writes), the stream is
 * destroyed and `onEnd('slow')` called; the client's EventSource reconnects and starts over from
 * a fresh snapshot. `onEnd` is called once, whatever ends the stream.
 */
export class EventStream {
  private ended = false;

  constructor(
    private readonly response: StreamResponse,
    private readonly maxBufferedBytes: number,
    private readonly onEnd: (stream: EventStream, why: StreamEnd) => void,
  ) {
    response.once('close', () => this.end('closed'));
  }

  /** Whether it still takes messages. */
  get open(): boolean {
    return !this.ended;
  }

  /** Writes `chunk`; a stream over its bound is dropped. */
  send(chunk: string): void {
    if (this.ended) return;
    let accepted: boolean;
    try {
      accepted = this.response.write(chunk);
    } catch {
      this.drop('closed');
      return;
    }
    // write() returning false only says the socket is behind; what counts is how much waits.
    if (!accepted && this.response.writableLength > this.maxBufferedBytes) this.drop('slow');
  }

  /** Ends it gracefully (the observer stops): what was written is still delivered. */
  close(): void {
    if (this.ended) return;
    this.end('stopped');
    try {
      this.response.end();
    } catch {
      // Already gone.
    }
  }

  private drop(why: StreamEnd): void {
    if (this.ended) return;
    this.end(why);
    try {
      this.response.destroy();
    } catch {
      // Already gone.
    }
  }

  private end(why: StreamEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this, why);
  }
}
