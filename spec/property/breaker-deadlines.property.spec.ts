import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallDeadlines, type Deadline } from '../../src/breaker/call-deadlines.js';
import { createTestClock } from '../../src/index.js';

// The deadlines of a breaker's timed calls share one clock timer. Whatever the order in which
// calls start, settle early or have their timeout shortened by a hot reload, each deadline must
// expire exactly at its time (never early, never late, never twice, never after its call was
// removed), deadlines due at the same time expire in the order they were added, and one timer is
// pending exactly while some deadline is queued.

type Step = { kind: 'add'; in: number } | { kind: 'remove'; pick: number } | { kind: 'advance'; ms: number };

const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), in: fc.oneof(fc.constantFrom(0, 10, 50, 100), fc.integer({ min: 0, max: 150 })) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.constantFrom(0, 1, 10, 50), fc.integer({ min: 0, max: 120 })) }) },
  ),
  { maxLength: 80, size: 'max' },
);

interface Expected {
  id: number;
  at: number;
  live: boolean;
}

describe('call deadlines on one timer', () => {
  it('expire each deadline exactly at its time, in (time, insertion) order, never a removed one, with one timer pending exactly while any is queued', () => {
    fc.assert(
      fc.property(steps, (script) => {
        const clock = createTestClock();
        const deadlines = new CallDeadlines(clock);
        const expired: Array<{ id: number; at: number }> = [];
        const model: Expected[] = [];
        const real = new Map<number, Deadline>();
        let nextId = 0;
        for (const step of script) {
          if (step.kind === 'add') {
            const id = nextId++;
            const at = clock.now() + step.in;
            const deadline: Deadline = {
              at,
              expire: () => expired.push({ id, at: clock.now() }),
              previous: undefined,
              next: undefined,
              queued: false,
            };
            real.set(id, deadline);
            model.push({ id, at, live: true });
            deadlines.add(deadline);
          } else if (step.kind === 'remove') {
            const live = model.filter((entry) => entry.live);
            if (live.length === 0) continue;
            const entry = live[step.pick % live.length]!;
            entry.live = false;
            deadlines.remove(real.get(entry.id)!);
          } else {
            const target = clock.now() + step.ms;
            const due = model
              .filter((entry) => entry.live && entry.at <= target)
              .sort((a, b) => a.at - b.at || a.id - b.id);
            for (const entry of due) entry.live = false;
            expired.length = 0;
            clock.advance(step.ms);
            // Every deadline (one added with `in: 0` included) expires during the first advance
            // that reaches its time, with the clock reading exactly that time.
            expect(expired).toEqual(due.map((entry) => ({ id: entry.id, at: entry.at })));
          }
          const queued = model.filter((entry) => entry.live).length;
          expect(clock.pendingTimers()).toBe(queued > 0 ? 1 : 0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
