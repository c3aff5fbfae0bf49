// The order in which libinfinity visits a session's users decides the order of sync-user and of
// sync-request groups in every synchronisation, of <user> in saved notes and of the users in its
// translation paths. It is a sorted list whose comparison wraps at 2^31, so for big ids it depends
// on the order users were added. Seeded random sequences go through the real InfUserTable.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userTableOrder } from '@tandem/adopted';
import { PYTHON, mulberry32, requireRealLibinfinity, testSeed } from './harness/index.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'py', 'user_order.py');

describe('user table order against libinfinity', () => {
  before(() => requireRealLibinfinity());

  it('visits seeded random users, many with ids 2^31 or more apart, in libinfinity order', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    const R = (n: number): number => Math.floor(rnd() * n);
    const near = [1, 2, 3, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0x80000002, 0xfffffffe, 0xffffffff];
    const sequences: number[][] = [];
    for (let i = 0; i < 300; i++) {
      const ids = new Set<number>();
      const n = 1 + R(12);
      while (ids.size < n) ids.add(R(3) === 0 ? near[R(near.length)]! : R(2) === 0 ? 1 + R(40) : 1 + R(0xffffffff));
      sequences.push([...ids]);
    }
    const run = spawnSync(PYTHON, [SCRIPT], { input: sequences.map((s) => JSON.stringify(s)).join('\n') + '\n', encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    const answers = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[]);
    expect(answers).to.have.length(sequences.length);
    let unsorted = 0;
    sequences.forEach((ids, i) => {
      const ours = userTableOrder(ids.map((id) => ({ id }))).map((u) => u.id);
      expect(ours, `seed ${seed}, sequence ${i}: ${ids.join(', ')}`).to.deep.equal(answers[i]);
      if (answers[i]!.some((id, k) => k > 0 && id < answers[i]![k - 1]!)) unsorted++;
    });
    // The wrapping comparison must have been exercised, not only plain sorting.
    expect(unsorted).to.be.greaterThan(30);
  });
});
