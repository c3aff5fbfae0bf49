// How a user's caret and selection follow an insertion or deletion decides where every client
// shows the other users' carets, the caret and selection a synchronisation sends, and whether a
// move request transformed against a concurrent change still fits the text. Every small case is
// put through libinfinity's own inf_text_move_operation_transform_insert/_delete (python3-gi) and
// compared with @tandem/adopted's, including the deletions after which libinfinity gives a
// selection the wrong sign.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformCaretDelete, transformCaretInsert } from '@tandem/adopted';
import { PYTHON, requireRealLibinfinity } from './harness/index.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'py', 'caret_transform.py');

type Case = ['insert', number, number, number, number, boolean] | ['delete', number, number, number, number];

describe('caret and selection transformation against libinfinity', () => {
  before(() => requireRealLibinfinity());

  it('moves every caret and selection within 9 characters (and selections reaching before the start) as libinfinity does, for every insertion and deletion', () => {
    const cases: Case[] = [];
    const N = 9;
    for (let caret = 0; caret <= N; caret++) {
      // Bounds before the start of the text too: libinfinity gives such selections (it computes
      // the far end modulo 2^32, and later changes may bring it back into range).
      for (let bound = -4; bound <= N; bound++) {
        for (let pos = 0; pos <= N; pos++) {
          for (let len = 1; pos + len <= N; len++) cases.push(['delete', pos, len, caret, bound - caret]);
          for (const len of [1, 3]) for (const left of [true, false]) cases.push(['insert', pos, len, caret, bound - caret, left]);
        }
      }
    }
    const run = spawnSync(PYTHON, [SCRIPT], { input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(run.status, run.stderr).to.equal(0);
    const answers = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as [number, number]);
    expect(answers).to.have.length(cases.length);
    let wrongSign = 0;
    cases.forEach((c, i) => {
      const ours = c[0] === 'insert' ? transformCaretInsert(c[1], c[2], c[3], c[4], c[5]) : transformCaretDelete(c[1], c[2], c[3], c[4]);
      expect(ours, JSON.stringify(c)).to.deep.equal(answers[i]);
      if (c[0] === 'delete' && c[4] !== 0 && answers[i]![1] !== 0 && Math.sign(answers[i]![1]) !== Math.sign(c[4])) wrongSign++;
    });
    // The cases where libinfinity flips a selection's direction were among them.
    expect(wrongSign).to.be.greaterThan(50);
    console.log(`      ${cases.length} cases alike, ${wrongSign} of them deletions that turn a selection around`);
  });
});
