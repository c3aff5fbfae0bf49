// The side-by-side benchmark (bench/server, issue 7) in its seconds-long smoke form, against
// tandemd and the real infinoted: every scenario completes for both servers, every client
// converges, and the report renders each table with both servers and their ratio. Figures are
// not asserted (tests never assert wall-clock times); this keeps the benchmark from rotting.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from './harness/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Row {
  server: string;
  converged?: boolean;
  undelivered?: number;
  error?: string;
  subscribeMs?: number;
  serverMs?: number;
  document?: string;
  gobbyMs?: number;
  gobbyText?: string;
  allSynced?: boolean;
  failed?: number;
  serverCpuSeconds?: number;
}

describe('bench/server smoke run (tandemd and infinoted side by side)', function () {
  this.timeout(240_000);

  it('runs every scenario against both servers; every client converges and the report has both columns', async () => {
    const dir = tempDir('tandem-bench-smoke-');
    const out = join(dir, 'results.json');
    const log = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['bench/server/run.mjs', '--smoke', '--no-report', '--out', out], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (b: Buffer) => void (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => void (text += b.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`bench exited with ${code}:\n${text}`))));
    });
    const results = JSON.parse(readFileSync(out, 'utf8')) as { failures?: Record<string, string>; scenarios: Record<string, Row[]> };
    expect(results.failures, log).to.equal(undefined);
    for (const name of ['a', 'h', 'b', 'c', 'd', 'e']) {
      const rows = results.scenarios[name] ?? [];
      expect(rows.map((r) => r.server), `scenario (${name})`).to.include.members(['tandemd', 'infinoted']);
      for (const r of rows) {
        const at = `(${name}) ${r.server}: ${JSON.stringify(r)}`;
        expect(r.error, at).to.equal(undefined);
        if (name === 'a' || name === 'h' || name === 'b') {
          expect(r.converged, at).to.equal(true);
          expect(r.undelivered, at).to.equal(0);
        }
        if (name === 'c') {
          expect(r.subscribeMs, at).to.be.greaterThan(0);
          expect(r.serverMs, at).to.be.greaterThan(0);
          // The real libinfinity client (Gobby's library) subscribed too.
          expect(r.gobbyMs, at).to.be.greaterThan(0);
        }
        if (name === 'd') expect(r.allSynced, at).to.equal(true);
        if (name === 'e') expect(r.failed, at).to.equal(0);
      }
    }
    // Both servers gave the libinfinity client the same uploaded text (length and sha256).
    const uploaded = (results.scenarios.c ?? []).filter((r) => r.document?.endsWith('MiB text'));
    for (const doc of new Set(uploaded.map((r) => r.document))) {
      const texts = uploaded.filter((r) => r.document === doc).map((r) => r.gobbyText);
      expect(texts, `(c) ${doc}`).to.have.length(2);
      expect(texts[0], `(c) ${doc}`).to.equal(texts[1]);
    }
    const report = (await import(pathToFileURL(join(repo, 'bench/server/report.mjs')).href)) as {
      renderServerSection(results: unknown): string;
    };
    const section = report.renderServerSection(results);
    for (const heading of ['### (a)', '### (h)', '### (b)', '### (c)', '### (d)', '### (e)']) expect(section).to.include(heading);
    expect(section).to.include('*tandemd ÷ infinoted*');
    // A smoke window may see less than one clock tick of a server's CPU: then (h) says it has no ratio.
    const unmeasured = (results.scenarios.h ?? []).some((r) => r.serverCpuSeconds === 0);
    if (unmeasured) expect(section).to.include('No pair has a server CPU time on both sides');
    else expect(section).to.match(/Median over the \d+ pairs: tandemd makes \*\*[\d.]+×\*\*/);
  });
});

describe('bench/engine many-authors smoke run (Tandem and libinfinity on the same records)', function () {
  this.timeout(120_000);

  for (const undo of ['0', '0.15']) {
    it(`plays central sessions of 20 and 60 users with both engines (undo share ${undo}), which end with the same text`, async () => {
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['bench/engine/many.mjs', '--users', '20,60', '--requests', '300', '--lag', '6', '--runs', '1', '--undo', undo], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (b: Buffer) => void (text += b.toString()));
        child.stderr.on('data', (b: Buffer) => void (text += b.toString()));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`many.mjs exited with ${code}:\n${text}`))));
      });
      // One row per user count, with libinfinity's figure (not "n/a": it ran) and no differing texts.
      const rows = out.split('\n').filter((l) => /^\| \d+ \|/.test(l));
      expect(rows.map((r) => r.split('|')[1]!.trim()), out).to.deep.equal(['20', '60']);
      for (const r of rows) {
        const cells = r.split('|').map((c) => c.trim());
        expect(Number(cells[2]), r).to.equal(300);
        expect(Number(cells[5]), r).to.be.greaterThan(0);
      }
      expect(out).not.to.include('TEXTS DIFFER');
    });
  }
});
