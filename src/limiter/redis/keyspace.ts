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
 * The hash tag Redis Cluster finds in `text`: what lies between its first `{` and the first `}`
 * after it, when that is not empty; `undefined` when there is none (Cluster then hashes the whole key).
 */
export function hashTagOf(text: string): string | undefined {
  const open = text.indexOf('{');
  if (open < 0) return undefined;
  const close = text.indexOf('}', open + 1);
  return close > open + 1 ? text.slice(open + 1, close) : undefined;
}

function hasBrace(text: string): boolean {
  return text.includes('{') || text.includes('}');
}

/** Whether `prefix` can start a keyspace: no `:`, and braces only if they hold a Cluster hash tag. */
export function isUsablePrefix(prefix: string): boolean {
  return !prefix.includes(':') && isWellFormed(prefix) && (!hasBrace(prefix) || hashTagOf(prefix) !== undefined);
}

function digest(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'utf16le')).digest('base64url');
}

/**
 * Where a limiter's keys live in Redis:
 *
 *     <prefix>:<name.length>:<name>:k:<key>                      the key itself, when it is short
 *     <prefix>:<name.length>:<name>:h:<base64url(sha256(key))>   a digest otherwise
 *     <prefix>:<name.length>:<name>:r:<hit id>{<tag>}            a hit Redis admitted, for its resends
 *
 * The prefix holds no `:`, and the name's length comes before the name, so two (prefix, name)
 * pairs never produce the same start; `k:`, `h:` and `r:` keep raw keys, digests and hit records
 * apart. A key is stored raw when its UTF-8 form is at most 256 bytes and it is well-formed
 * Unicode; a longer key, or one with a lone surrogate (which UTF-8 would turn into U+FFFD, merging
 * it with another key), is stored as the SHA-256 of its UTF-16 code units, which are exactly the
 * JavaScript string.
 *
 * A hit's record must sit in its key's Redis Cluster slot (a script may touch one slot only), so
 * `<tag>` is what Cluster hashes of the key: its hash tag, or the whole key when it has none. For
 * that the keyspace keeps braces out of the way: a key whose braces are not a hash tag is stored
 * as a digest; a name whose braces would spoil the start is written `#<base64url(sha256(name))>`
 * instead of `<name.length>:<name>` (`#` is not a digit, so the two forms never meet); and a
 * prefix may hold braces only as a hash tag (`{limits}`), which then places every key, and every
 * record, in one slot.
 */
export class Keyspace {
  private readonly base: string;
  /** Whether the start holds a hash tag: then every key and record shares it. */
  private readonly tagged: boolean;

  constructor(prefix: string, name: string) {
    if (!isUsablePrefix(prefix)) throw new RangeError(`unusable Redis key prefix ${JSON.stringify(prefix)}`);
    const named = `${prefix}:${name.length}:${name}:`;
    this.base = hasBrace(named) && hashTagOf(named) === undefined ? `${prefix}:#${digest(name)}:` : named;
    this.tagged = hashTagOf(this.base) !== undefined;
  }

  /** The Redis key of a limiter key. */
  keyOf(key: string): string {
    if (
      // Stryker disable next-line EqualityOperator: a key of exactly SURELY_SHORT units has at most 255 UTF-8 bytes, which the byte count below admits too.
      (key.length <= SURELY_SHORT ||
        // Stryker disable next-line StringLiteral: Buffer.byteLength counts UTF-8 when no encoding is named.
        Buffer.byteLength(key, 'utf8') <= MAX_RAW_KEY_BYTES) &&
      isWellFormed(key) &&
      (this.tagged || !hasBrace(key) || hashTagOf(key) !== undefined)
    ) {
      return `${this.base}k:${key}`;
    }
    return `${this.base}h:${digest(key)}`;
  }

  /** The record of hit `hitId` on `redisKey` (a key {@link keyOf} gave), in the same Cluster slot. */
  recordOf(redisKey: string, hitId: string): string {
    if (this.tagged) return `${this.base}r:${hitId}`;
    // The start is brace-free, so the key's first `{` (if any) is in its own part, where keyOf
    // let braces through only as a hash tag.
    return `${this.base}r:${hitId}{${hashTagOf(redisKey) ?? redisKey}}`;
  }
}
