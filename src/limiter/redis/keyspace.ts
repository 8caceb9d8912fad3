import { createHash } from 'node:crypto';

/** Keys whose UTF-8 form is longer than this are stored under a digest. */
export const MAX_RAW_KEY_BYTES = 256;

/** Strings up to this many UTF-16 units are at most {@link MAX_RAW_KEY_BYTES} in UTF-8 (3 bytes a unit at most). */
const SURELY_SHORT = Math.floor(MAX_RAW_KEY_BYTES / 3);

/** Whether `text` has no lone surrogate (which UTF-8 cannot carry: it would be replaced by U+FFFD). */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Where a limiter's keys live in Redis:
 *
 *     <prefix>:<name.length>:<name>:k:<key>                         the key itself, when it is short
 *     <prefix>:<name.length>:<name>:h:<base64url(sha256(key))>      a digest otherwise
 *
 * The prefix holds no `:`, and the name's length comes before the name, so two (prefix, name)
 * pairs never produce the same start; `k:` and `h:` keep raw keys and digests apart. A key is
 * stored raw when its UTF-8 form is at most 256 bytes and it is well-formed Unicode; a longer
 * key, or one with a lone surrogate (which UTF-8 would turn into U+FFFD, merging it with another
 * key), is stored as the SHA-256 of its UTF-16 code units, which are exactly the JavaScript string.
 */
export class Keyspace {
  private readonly base: string;

  constructor(prefix: string, name: string) {
    this.base = `${prefix}:${name.length}:${name}:`;
  }

  /** The Redis key of a limiter key. */
  keyOf(key: string): string {
    if ((key.length <= SURELY_SHORT || Buffer.byteLength(key, 'utf8') <= MAX_RAW_KEY_BYTES) && isWellFormed(key)) {
      return `${this.base}k:${key}`;
    }
    return `${this.base}h:${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;
  }
}
