// What every interop suite needs around its scenarios: a check that the real libinfinity is here,
// servers and drivers that are stopped after each test, connected drivers, convergence polling,
// and a seeded PRNG whose seed is printed so a failing run can be replayed.
import { expect } from 'chai';
import { startDriver, type InfDriver } from './driver.js';
import { requireRealLibinfinity } from './prerequisites.js';
import type { ServerUnderTest } from './server.js';

/** mulberry32: a tiny seeded generator of floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from TANDEM_SEED or a fresh one, printed so a failure can be replayed. */
export function testSeed(): number {
  const seed = process.env.TANDEM_SEED ? Number(process.env.TANDEM_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`      seed ${seed} (TANDEM_SEED=${seed} to repeat)`);
  return seed;
}

export interface InteropFixture {
  /** Registers a started server so that it is stopped after the test. */
  server<T extends ServerUnderTest>(started: Promise<T>): Promise<T>;
  /** A libinfinity driver connected to `s` as `user`, stopped after the test. */
  client(s: ServerUnderTest, user: string, extra?: { password?: string }): Promise<InfDriver>;
  /** A driver that is not connected yet, stopped after the test. */
  driver(): Promise<InfDriver>;
  /** Polls two drivers until they show the same text of `path`, and returns it. */
  converge(a: InfDriver, b: InfDriver, path: string): Promise<string>;
}

/**
 * Call inside a mocha `describe`: fails the suite clearly when the real libinfinity is missing
 * (CI installs it; a silent skip would hide a broken setup) and cleans up after every test.
 */
export function interopFixture(): InteropFixture {
  let servers: ServerUnderTest[] = [];
  let drivers: InfDriver[] = [];

  before(() => requireRealLibinfinity());

  afterEach(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    drivers = [];
    servers = [];
  });

  const driver = async (): Promise<InfDriver> => {
    const d = await startDriver();
    drivers.push(d);
    return d;
  };

  return {
    async server(started) {
      const s = await started;
      servers.push(s);
      return s;
    },
    driver,
    async client(s, user, extra = {}) {
      const d = await driver();
      await d.call('connect', { port: s.port, security: s.securityPolicy, user, ...extra });
      return d;
    },
    async converge(a, b, path) {
      // Remote requests arrive asynchronously; give them time before calling it a divergence.
      for (let i = 0; i < 100; i++) {
        const [ta, tb] = await Promise.all([a.call('text', { path }), b.call('text', { path })]);
        if (ta.text === tb.text) return ta.text;
        await new Promise((r) => setTimeout(r, 100));
      }
      const [ta, tb] = await Promise.all([a.call('text', { path }), b.call('text', { path })]);
      expect(tb.text, 'second editor diverged from the first').to.equal(ta.text);
      return ta.text;
    },
  };
}
