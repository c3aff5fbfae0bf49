import { expect } from 'chai';
import { on, once } from 'node:events';
import { Emitter } from '../src/emitter.js';

interface Events {
  change: [index: number, text: string];
  closed: [reason: Error | undefined];
}

describe('Emitter', () => {
  it('calls listeners in the order they were added, with the arguments and the emitter as this', () => {
    const e = new Emitter<Events>();
    const calls: string[] = [];
    e.on('change', function (this: unknown, i, t) {
      expect(this).to.equal(e);
      calls.push(`a${i}${t}`);
    });
    e.addListener('change', (i, t) => calls.push(`b${i}${t}`));
    expect(e.emit('change', 1, 'x')).to.equal(true);
    expect(calls).to.deep.equal(['a1x', 'b1x']);
    expect(e.emit('closed', undefined)).to.equal(false);
  });

  it('runs a once listener a single time, also when a listener emits the event again', () => {
    const e = new Emitter<Events>();
    let onceCalls = 0;
    let nested = false;
    e.on('change', () => {
      if (!nested) {
        nested = true;
        e.emit('change', 2, 'inner');
      }
    });
    e.once('change', () => onceCalls++);
    e.emit('change', 1, 'outer');
    e.emit('change', 3, 'later');
    expect(onceCalls).to.equal(1);
    expect(e.listenerCount('change')).to.equal(1);
  });

  it('does not change the emit under way when listeners are added or removed during it', () => {
    const e = new Emitter<Events>();
    const calls: string[] = [];
    const second = (): void => void calls.push('second');
    e.on('change', () => {
      calls.push('first');
      e.off('change', second);
      e.on('change', () => calls.push('added'));
    });
    e.on('change', second);
    e.emit('change', 0, '');
    expect(calls).to.deep.equal(['first', 'second']);
    calls.length = 0;
    e.emit('change', 0, '');
    expect(calls).to.deep.equal(['first', 'added']);
  });

  it('removes a once listener through the original function, and only the latest registration', () => {
    const e = new Emitter<Events>();
    let n = 0;
    const f = (): void => void n++;
    e.once('closed', f);
    e.off('closed', f);
    e.emit('closed', undefined);
    expect(n).to.equal(0);
    e.on('closed', f);
    e.on('closed', f);
    expect(e.listenerCount('closed', f)).to.equal(2);
    e.removeListener('closed', f);
    e.emit('closed', undefined);
    expect(n).to.equal(1);
    expect(e.listeners('closed')).to.deep.equal([f]);
  });

  it('removes all listeners of one event or of every event', () => {
    const e = new Emitter<Events>();
    e.on('change', () => undefined);
    e.on('closed', () => undefined);
    expect(e.eventNames()).to.have.members(['change', 'closed']);
    e.removeAllListeners('change');
    expect(e.listenerCount('change')).to.equal(0);
    expect(e.listenerCount('closed')).to.equal(1);
    e.removeAllListeners();
    expect(e.eventNames()).to.deep.equal([]);
  });

  it('lets an exception of a listener out of emit, as Node does', () => {
    const e = new Emitter<Events>();
    e.on('change', () => {
      throw new Error('boom');
    });
    expect(() => e.emit('change', 0, '')).to.throw('boom');
  });

  it('refuses a listener that is not a function', () => {
    const e = new Emitter<Events>();
    expect(() => e.on('change', 'nope' as unknown as () => void)).to.throw(TypeError);
  });

  it('works with events.once and events.on from node:events, which clean up after themselves', async () => {
    const e = new Emitter<Events>();
    // node:events types want a full NodeJS.EventEmitter; at run time it needs on/once/removeListener.
    const node = e as unknown as NodeJS.EventEmitter;
    setTimeout(() => e.emit('change', 5, 'five'), 1);
    expect(await once(node, 'change')).to.deep.equal([5, 'five']);
    expect(e.listenerCount('change')).to.equal(0);

    const ac = new AbortController();
    const seen: unknown[] = [];
    setTimeout(() => {
      e.emit('change', 1, 'a');
      e.emit('change', 2, 'b');
    }, 1);
    try {
      for await (const args of on(node, 'change', { signal: ac.signal })) {
        seen.push(args);
        if (seen.length === 2) ac.abort();
      }
    } catch (err) {
      expect((err as Error).name).to.equal('AbortError');
    }
    expect(seen).to.deep.equal([[1, 'a'], [2, 'b']]);
    expect(e.listenerCount('change')).to.equal(0);
  });
});
