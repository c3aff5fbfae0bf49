import { expect } from 'chai';
import { userTableOrder } from '../src/index.js';

const order = (ids: number[]): number[] => userTableOrder(ids.map((id) => ({ id }))).map((u) => u.id);

describe('userTableOrder (libinfinity 0.7.2 inf_user_table_foreach_user)', () => {
  it('sorts ids below 2^31 by value whatever the order they were added in', () => {
    expect(order([5, 3, 9, 1, 2])).to.deep.equal([1, 2, 3, 5, 9]);
    expect(order([])).to.deep.equal([]);
  });

  // Answers of the real library (Infinity.UserTable via python3-gi, foreach_user after add_user
  // in the order given); test/interop/user-order.test.ts compares seeded random sequences live.
  const recorded: [number[], number[]][] = [
    [[1, 4294967295], [4294967295, 1]],
    [[4294967295, 1], [4294967295, 1]],
    [[1, 2147483649, 3], [3, 2147483649, 1]],
    [[3, 1, 2147483649], [2147483649, 1, 3]],
    [[5, 2147483652, 2147483650, 4, 0x7fffffff, 0x80000000, 2], [2, 4, 5, 2147483647, 2147483648, 2147483650, 2147483652]],
  ];
  for (const [added, visited] of recorded) {
    it(`visits users added as ${added.join(', ')} as libinfinity does: ${visited.join(', ')}`, () => {
      expect(order(added)).to.deep.equal(visited);
    });
  }

  it('keeps the objects it was given', () => {
    const a = { id: 4294967295, name: 'a' };
    const b = { id: 1, name: 'b' };
    expect(userTableOrder([b, a])).to.deep.equal([a, b]);
    expect(userTableOrder([b, a])[0]).to.equal(a);
  });
});
