/**
 * Seeded simulation of a central-method session as libinfinity runs one: each client executes
 * its own requests at once and sends them to the server; the server executes them and relays the
 * unchanged request to every other client. Links are FIFO with random delays, so requests are
 * concurrent in many ways. The result keeps every site's text and the exact order in which each
 * site executed the requests, so that the same scenario can be written as an `<infinote-test>`
 * and run by the real libinfinity in each site's order (see infinoteTestXml).
 */
import { AdoptedSession, isInvalidMove, tieStats, type Executed, type IncomingRequest, type LocalResult, type Segment } from '@tandem/adopted';
import { Element, appendText, encodeRequest, serialize, wireOperationOf, type WireRequest } from '@tandem/protocol';
import { Random } from './random.js';

/** Characters the simulation types: emoji, combining marks, controls, and XML's own specials. */
export const ALPHABET = ['a', 'b', 'c', ' ', '\n', '😀', '👍🏽', 'e\u0301', '\u0301', '\u0007', '\r', '🇩🇪', 'ß', '€', '\uFFFD', '<&>'];

export interface SimulationOptions {
  /** Client sites (default 2 + random 0..6). */
  sites?: number;
  /** Local actions (default 15 + random 0..39). */
  steps?: number;
  /** Without moves (libinfinity 0.7.2 turns some transformed selections around and then rejects them). */
  moves?: boolean;
}

export interface SimulatedRequest {
  /** What the engine receives. */
  incoming: IncomingRequest;
  /** The same request as it goes over the wire. */
  wire: WireRequest;
}

export interface Simulation {
  seed: number;
  initial: Segment[];
  /** User ids of the client sites; client i is user i + 1. */
  users: number[];
  /** Every request, in the order the server executed it. */
  requests: SimulatedRequest[];
  /** For each client, the indices into `requests` in the order it executed them. */
  orders: number[][];
  server: Segment[];
  clients: Segment[][];
  /** Per site (the server first, then each client): every user's [id, caret, selection] at the end. */
  carets: [number, number, number][][];
  /** Insert/insert ties decided by user id (libinfinity's order-dependence needs one). */
  ties: number;
  /**
   * Moves that a site could not execute because, transformed against a concurrent deletion, they
   * select past the end of the text (libinfinity 0.7.2's selection sign, @tandem/adopted caret.ts).
   * As in libinfinity, the server answers such a move with invalid-request and relays it all the
   * same, and a site that fails on one goes on without it; moves never change the text.
   */
  failedMoves: number;
  /** Where: per site (the server first, then each client), the indices into `requests` of those moves. */
  failedMovesAt: number[][];
  /** A site refused or failed a request: where and why (the run stopped there). */
  error?: string;
}

/** Runs one scenario. Never throws for what a site does; an engine error ends it in `error`. */
export function simulate(seed: number, options: SimulationOptions = {}): Simulation {
  const rng = new Random(seed);
  const n = options.sites ?? 2 + rng.below(7);
  const steps = options.steps ?? 15 + rng.below(40);
  const moves = options.moves ?? true;
  const initial: Segment[] = rng.below(3) === 0 ? [] : [{ author: 0, text: 'héllo 😀 wörld\n' }];
  const users = Array.from({ length: n }, (_, i) => i + 1);
  const server = new AdoptedSession({ segments: initial, users: users.map((id) => ({ id })) });
  const clients = users.map((me) => new AdoptedSession({ segments: initial, users: users.map((id) => ({ id, local: id === me })) }));
  const sim: Simulation = { seed, initial, users, requests: [], orders: users.map(() => []), server: [], clients: [], carets: [], ties: 0, failedMoves: 0, failedMovesAt: [[], ...users.map(() => [])] };
  const up: SimulatedRequest[][] = users.map(() => []);
  const down: number[][] = users.map(() => []);
  const pending: number[][] = users.map(() => []);
  const tiesBefore = tieStats.ties;

  class Stop extends Error {}
  const stop = (msg: string): never => {
    sim.error = msg;
    throw new Stop(msg);
  };
  // Links are FIFO and every site only sends what it has seen, so the request a site receives is
  // always the one it executes (nothing waits): a failure belongs to that request.
  const failedMove = (site: number, idx: number): void => {
    sim.failedMoves++;
    sim.failedMovesAt[site]!.push(idx);
  };
  const deliverUp = (i: number): void => {
    const r = up[i]!.shift()!;
    const idx = sim.requests.length;
    sim.requests.push(r);
    sim.orders[i]![pending[i]!.shift()!] = idx;
    const res = server.receive(r.incoming);
    // A move the server cannot execute is relayed all the same (as infinoted and tandemd do).
    if (res.error && !res.executed.some((x) => x.error === res.error)) stop(`server rejected ${describe(r)}: ${res.error.message}`);
    for (const x of res.executed) {
      if (isFailedMove(x)) failedMove(0, idx);
      else if (x.error) stop(`server failed on ${describe(r)}: ${x.error.message}`);
    }
    for (let j = 0; j < n; j++) if (j !== i) down[j]!.push(idx);
  };
  const deliverDown = (j: number): void => {
    const idx = down[j]!.shift()!;
    sim.orders[j]!.push(idx);
    const r = sim.requests[idx]!;
    const res = clients[j]!.receive(r.incoming);
    if (res.error && !res.executed.some((x) => x.error === res.error)) stop(`client ${j + 1} rejected ${describe(r)}: ${res.error.message}`);
    for (const x of res.executed) {
      if (isFailedMove(x)) failedMove(j + 1, idx);
      else if (x.error) stop(`client ${j + 1} failed on ${describe(r)}: ${x.error.message}`);
    }
  };

  try {
    for (let step = 0; step < steps; step++) {
      // Deliver some messages in flight; the rest stay in flight (concurrency).
      for (let k = rng.below(2 * n + 1); k > 0; k--) {
        const i = rng.below(n);
        if (rng.below(2) === 0 ? up[i]!.length : 0) deliverUp(i);
        else if (down[i]!.length) deliverDown(i);
      }
      const i = rng.below(n);
      const res = act(clients[i]!, i + 1, rng, moves);
      up[i]!.push(simulated(i + 1, res));
      pending[i]!.push(sim.orders[i]!.length);
      sim.orders[i]!.push(-1);
    }
    // Flush: everything reaches the server, then everyone.
    for (let i = 0; i < n; i++) while (up[i]!.length) deliverUp(i);
    for (let j = 0; j < n; j++) while (down[j]!.length) deliverDown(j);
    for (const c of clients) if (c.waiting || !c.current.equals(server.current)) stop('a client did not reach the server state');
  } catch (e) {
    if (!(e instanceof Stop)) sim.error = (e as Error).message;
  }
  sim.server = server.segments();
  sim.clients = clients.map((c) => c.segments());
  sim.carets = [server, ...clients].map((site) => site.users().map((u): [number, number, number] => [u.id, u.caret, u.selection]).sort((a, b) => a[0] - b[0]));
  sim.ties = tieStats.ties - tiesBefore;
  return sim;
}

/** One random local action of user `me` at its own site. */
function act(c: AdoptedSession, me: number, rng: Random, moves: boolean): LocalResult {
  const roll = rng.below(100);
  if (roll < 12 && c.canUndo(me)) return c.localUndo(me, rng.below(5) === 0 && c.canUndo(me) ? 2 : 1);
  if (roll < 18 && c.canRedo(me)) return c.localRedo(me);
  if (roll < 22) return c.localNoop(me);
  if (roll < 26) {
    const caret = rng.below(c.length + 1);
    const selection = rng.below(c.length + 1) - caret;
    if (moves) return c.localMove(me, caret, selection);
    return c.localNoop(me);
  }
  if (roll < 60 && c.length > 0) {
    const pos = rng.below(c.length);
    return c.localDelete(me, pos, 1 + rng.below(Math.min(6, c.length - pos)));
  }
  let text = '';
  for (let k = 1 + rng.below(4); k > 0; k--) text += ALPHABET[rng.below(ALPHABET.length)];
  return c.localInsert(me, rng.below(c.length + 1), text);
}

function simulated(user: number, r: LocalResult): SimulatedRequest {
  const req = r.request;
  // A delete goes over the wire without the removed text (libinfinity's request form).
  const body = req.type === 'do' ? { type: 'do' as const, op: req.op.kind === 'delete' ? { kind: 'delete' as const, pos: req.op.pos, len: req.op.len } : req.op } : { type: req.type };
  const incoming: IncomingRequest = r.num > 1 ? { ...body, user, time: r.time, num: r.num } : { ...body, user, time: r.time };
  const wire: WireRequest = { user, time: r.time, operation: wireOperationOf(req, false) };
  if (r.num > 1) wire.num = r.num;
  return { incoming, wire };
}

/** A move that, once translated, selected past the end of the text. */
function isFailedMove(x: Executed): boolean {
  return x.request.type === 'do' && x.request.op.kind === 'move' && isInvalidMove(x.error);
}

function describe(r: SimulatedRequest): string {
  return serialize(encodeRequest(r.wire));
}

/** Whether every client ended with the server's text and authors. */
export function converged(sim: Simulation): boolean {
  const want = JSON.stringify(sim.server);
  return !sim.error && sim.clients.every((c) => JSON.stringify(c) === want);
}

/**
 * The scenario as an `<infinote-test>` in the server's order (libinfinity's test format: the
 * `time` of a request is relative to its user's previous request, so the file also holds for
 * every other causal order of the same requests, such as each client's in `orders`).
 */
export function infinoteTestXml(sim: Simulation): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<infinote-test>'];
  for (const u of sim.users) lines.push(` <user id="${u}"/>`);
  lines.push(' <initial-buffer>');
  for (const s of sim.initial) lines.push(`  ${serialize(segmentElement(s))}`);
  lines.push(' </initial-buffer>');
  for (const r of sim.requests) lines.push(` ${serialize(encodeRequest(r.wire))}`);
  lines.push('</infinote-test>', '');
  return lines.join('\n');
}

function segmentElement(s: Segment): Element {
  return appendText(new Element('segment', { author: String(s.author) }), s.text);
}
