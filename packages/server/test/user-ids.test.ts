import { expect } from 'chai';
import { userTableOrder } from '@tandem/adopted';
import { UserIdCounter } from '../src/session/members.js';

/** The id two new users get after a stored document's users (ids in file order). */
function afterStored(ids: number[]): number[] {
  const used = new Set(ids);
  const counter = new UserIdCounter(userTableOrder(ids.map((id) => ({ id }))).map((u) => u.id));
  return [0, 1].map(() => {
    const id = counter.take(used);
    used.add(id);
    return id;
  });
}

describe('new user ids as infinoted counts them', () => {
  // infinoted 0.7.2's answers to two user-joins after loading these users (2026-12-03; the
  // storage-read differential in test/interop compares such notes live).
  const recorded: [number[], number[]][] = [
    [[5, 4294967295], [6, 7]],
    [[4294967295, 5], [6, 7]],
    [[4294967295, 1, 3], [4, 5]],
    [[3, 2147483649], [2147483650, 2147483651]],
    [[2147483650, 2147483649, 5], [2147483651, 2147483652]],
    [[1, 2, 3], [4, 5]],
    [[], [1, 2]],
  ];
  for (const [stored, next] of recorded) {
    it(`gives ${next.join(' and ')} after stored users ${stored.join(', ') || '(none)'}`, () => {
      expect(afterStored(stored)).to.deep.equal(next);
    });
  }

  it('takes the smallest free id where infinoted aborts (its counter wrapped to 0)', () => {
    // 7, 4294967294: infinoted gives 4294967295, then its counter is 0 and it aborts.
    expect(afterStored([7, 4294967294])).to.deep.equal([4294967295, 1]);
  });

  it('counts an upload\'s users in the order they arrived', () => {
    // Users 1 then 4294967295 arrive: the counter ends at 0 (infinoted aborts at the next join).
    expect(new UserIdCounter([1, 4294967295]).take(new Set([1, 4294967295]))).to.equal(2);
    // 4294967295 then 1: the counter is 2.
    const c = new UserIdCounter([4294967295, 1]);
    expect(c.take(new Set([1, 4294967295]))).to.equal(2);
    expect(c.take(new Set([1, 2, 4294967295]))).to.equal(3);
  });
});
