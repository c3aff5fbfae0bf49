import { expect } from 'chai';
import { mergeText } from '../src/text/merge.js';

describe('mergeText (three-way merge for file sync)', () => {
  it('keeps remote and local edits made to different places of the same base', () => {
    const base = 'alpha\nbeta\ngamma\n';
    const local = 'alpha\nbeta!\ngamma\n';
    const remote = 'ALPHA\nbeta\ngamma\ndelta\n';
    expect(mergeText(base, local, remote)).to.deep.equal({ text: 'ALPHA\nbeta!\ngamma\ndelta\n', failed: 0 });
  });

  it('takes one side as it is when the other did not change', () => {
    expect(mergeText('same', 'same', 'remote')).to.deep.equal({ text: 'remote', failed: 0 });
    expect(mergeText('same', 'local', 'same')).to.deep.equal({ text: 'local', failed: 0 });
    expect(mergeText('base', 'both', 'both')).to.deep.equal({ text: 'both', failed: 0 });
  });

  it('places a local edit after a long remote insertion in front of it', () => {
    const base = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join('');
    const local = base.replace('line 39\n', 'line 39 (edited)\n');
    const remote = 'x'.repeat(6000) + '\n' + base;
    const merged = mergeText(base, local, remote);
    expect(merged.failed).to.equal(0);
    expect(merged.text).to.equal('x'.repeat(6000) + '\n' + local);
  });

  it('replaces an emoji locally while others edit around it, without splitting a surrogate pair', () => {
    expect(mergeText('a😀b', 'a😁b', 'X a😀b 🎉')).to.deep.equal({ text: 'X a😁b 🎉', failed: 0 });
    expect(mergeText('e\u0301 \u0007 😀', 'e\u0301 \u0007 😀👍🏽', '> e\u0301 \u0007 😀')).to.deep.equal({
      text: '> e\u0301 \u0007 😀👍🏽',
      failed: 0,
    });
  });

  it('reports a local edit whose context others rewrote, and leaves the remote text alone', () => {
    const merged = mergeText('the cat sat on the mat', 'the cat sat on the hat', 'something else entirely, 42 times over');
    expect(merged.failed).to.equal(1);
    expect(merged.text).to.equal('something else entirely, 42 times over');
  });

  it('keeps both insertions made at the same place, the document\'s first', () => {
    expect(mergeText('ab', 'aXb', 'aYb')).to.deep.equal({ text: 'aYXb', failed: 0 });
  });

  it('makes a change that both sides made only once', () => {
    expect(mergeText('teh cat', 'the cat', 'the cat!')).to.deep.equal({ text: 'the cat!', failed: 0 });
  });

  it('reports a local change to text that others changed too, keeping their version', () => {
    expect(mergeText('the cat sat', 'the dog sat.', 'the bird sat')).to.deep.equal({ text: 'the bird sat.', failed: 1 });
  });
});
