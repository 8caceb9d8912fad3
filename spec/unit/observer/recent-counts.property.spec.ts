import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentCounts } from '../../../src/observer/recent-counts.js';

/** The limiter window behind the observer's "hits / denied in the last minute" (a pure ring of buckets). */
describe('RecentCounts', () => {
  it('counts every hit newer than windowMs − windowMs/12 and none older than windowMs, whatever the times (negative ones too)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 120_000 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.array(fc.record({ gap: fc.double({ min: 0, max: 20_000, noNaN: true }), allowed: fc.boolean(), count: fc.nat(1_000) }), { maxLength: 200 }),
        fc.double({ min: 0, max: 200_000, noNaN: true }),
        (windowMs, start, hits, readAfter) => {
          const counts = new RecentCounts(windowMs);
          let now = start;
          const recorded: Array<{ at: number; allowed: boolean; count: number }> = [];
          for (const hit of hits) {
            now += hit.gap;
            counts.record(now, hit.allowed, hit.count);
            recorded.push({ at: now, allowed: hit.allowed, count: hit.count });
          }
          const readAt = now + readAfter;
          const read = counts.read(readAt);
          const newer = (span: number) => recorded.filter((hit) => hit.at > readAt - span);
          const surely = newer(windowMs - windowMs / 12 - 1e-6);
          const maybe = newer(windowMs);
          expect(read.hits).toBeGreaterThanOrEqual(surely.length);
          expect(read.hits).toBeLessThanOrEqual(maybe.length);
          expect(read.denied).toBeGreaterThanOrEqual(surely.filter((hit) => !hit.allowed).length);
          expect(read.denied).toBeLessThanOrEqual(maybe.filter((hit) => !hit.allowed).length);
          expect(read.peakCount).toBeGreaterThanOrEqual(Math.max(0, ...surely.map((hit) => hit.count)));
          expect(read.peakCount).toBeLessThanOrEqual(Math.max(0, ...maybe.map((hit) => hit.count)));
          expect(counts.deniedTotal).toBe(recorded.filter((hit) => !hit.allowed).length);
        },
      ),
    );
  });
});
