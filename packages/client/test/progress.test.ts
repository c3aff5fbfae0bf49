import { expect } from 'chai';
import { Writable } from 'node:stream';
import { progressBar, renderProgress } from '../src/cli/progress.js';

/** A stand-in for a terminal's stderr: collects what is written, says it is a TTY of `columns`. */
function fakeTerminal(columns: number, isTTY = true): Writable & { isTTY: boolean; columns: number; output: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.output += String(chunk);
      done();
    },
  }) as Writable & { isTTY: boolean; columns: number; output: string };
  stream.isTTY = isTTY;
  stream.columns = columns;
  stream.output = '';
  return stream;
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('progress bar', () => {
  it('draws a character count and percentage once the job has run for the delay, however small the job', async () => {
    const tty = fakeTerminal(80);
    const bar = progressBar('put /doc', tty, { delayMs: 20 });
    bar.update(3, 10);
    expect(tty.output).to.equal('');
    await tick(60);
    expect(tty.output).to.match(/^\rput \/doc \[#+ +\] 30% 3\/10 chars\x1b\[K$/);
    bar.update(10, 10);
    bar.done();
    const lines = tty.output.split('\r').filter((l) => l);
    expect(lines[lines.length - 1]).to.match(/^put \/doc \[#+\] 100% 10\/10 chars\x1b\[K\n$/);
  });

  it('counts large jobs in K and M characters', () => {
    expect(renderProgress('put /big', 512_000, 2_048_000, 100)).to.match(/ 25% 512K\/2\.0M chars$/);
    expect(renderProgress('put /big', 4_500, 9_000, 100)).to.match(/ 50% 4\.5K\/9\.0K chars$/);
  });

  it('prints nothing for a job that ends before the delay', async () => {
    const tty = fakeTerminal(80);
    const bar = progressBar('put /doc', tty, { delayMs: 30 });
    bar.update(1_000_000, 1_000_000);
    bar.done();
    await tick(60);
    expect(tty.output).to.equal('');
  });

  it('prints nothing when stderr is not a terminal', async () => {
    const pipe = fakeTerminal(80, false);
    const bar = progressBar('put /doc', pipe, { delayMs: 0 });
    await tick(20);
    bar.update(5, 10);
    bar.done();
    expect(pipe.output).to.equal('');
  });

  it('fits the line into narrow terminals by shortening the label', () => {
    const line = renderProgress('sync /a/very/long/path/to/a/document/somewhere', 1, 2, 50);
    expect(line.length).to.be.at.most(49);
    expect(line).to.match(/^sync \/a.*… \[#+ +\] 50% 1\/2 chars$/);
    expect(renderProgress('put /x', 1, 2, 200).length).to.be.at.most(199);
  });
});
