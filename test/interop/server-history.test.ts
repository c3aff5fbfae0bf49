// tandemd against infinoted on a long editing session: three clients type, delete, undo, redo,
// move their carets, go inactive (as Gobby does when its window loses the focus), and now and then
// leave the document and come back (synchronised again, rejoining under their name) in one
// document, each often working on a state that lags the others' latest requests (concurrency),
// for more requests than libinfinity keeps in a session's log (its max-total-log-size, 2048), so
// the request log is cleaned up as infinoted cleans it. Now and then a fourth connection subscribes: the synchronisation it gets (text, users, their vectors
// and the requests left in the log after cleanup) must be byte for byte infinoted's, and so must
// every relayed request and every other message of every step.
//
// The script is made against infinoted: each simulated client keeps an @tandem/adopted site fed
// with what infinoted relayed, and its edits are that site's local requests. The same messages,
// in the same order, are then sent to tandemd. TANDEM_SEED repeats a run, TANDEM_HISTORY_LENGTH
// sets its number of actions (2,500), TANDEM_HISTORY_DUMP=FILE writes the script and infinoted's
// answers as JSON.
import { AdoptedSession, isInvalidMove, type Request, type Segment, type UserInit, type UserStatus } from '@tandem/adopted';
import {
  decodeRequestAndTime, decodeSyncRequest, decodeSyncSegment, decodeUser, encodeRequest, parseXmlDocument, readText, requestBodyFromWire,
  requestFromWireSync, serialize, type Element, type WireOperation,
} from '@tandem/protocol';
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { mulberry32, requireRealLibinfinity, startInfinoted, testSeed, type ServerUnderTest } from './harness/index.js';
import { RawXmpp, dir, group } from './harness/raw-xmpp.js';
import { startTandemd } from './server-harness.js';

const SESSION = 'InfSession_1';
const TEXTS = ['a', 'hello ', '\u{1F600}', '\u{1F44D}\u{1F3FD}', 'e\u0301', '\n', 'x\ty', '\u0007', '<&>', 'z'.repeat(20)];

/**
 * A step of the script: a message a client sends, a client reading what has come for it (`read`),
 * or a subscription by a fresh connection (`subscribe`). After each, the client concerned asks for
 * a node that cannot exist, and everything it received before the answer is that step's output;
 * so once a step is done the server has handled it, and the next step is sent. Only that one
 * client reads: infinoted does not set TCP_NODELAY, so an answer it writes while an earlier
 * message to the same client is not yet acknowledged waits for the acknowledgement (a delayed
 * ACK, up to 40 ms), and a read by every client after every step would take minutes.
 */
type Step = { client: number; message: string } | { read: number } | { subscribe: boolean } | { resubscribe: number; seq: number };

const normalise = (x: string): string => x.replace(/ from="[^"]*"/g, ' from="HOST"');

/** The three typists' connections to one server. */
class Room {
  private barrier = 100000;

  private constructor(readonly server: ServerUnderTest, readonly clients: RawXmpp[]) {}

  static async open(server: ServerUnderTest): Promise<Room> {
    const clients: RawXmpp[] = [];
    for (const name of ['a', 'b', 'c']) {
      const c = new RawXmpp(server.port);
      await c.login(name);
      clients.push(c);
    }
    return new Room(server, clients);
  }

  /** Everything client `i` received until the answer to an exploration of a node that does not exist. */
  async read(i: number): Promise<string> {
    const b = this.barrier++;
    this.clients[i]!.send(dir(`<explore-node seq="${b}" id="77777"/>`));
    const got = await this.clients[i]!.until(`/${b}">Node does not exist</request-failed></group>`);
    return normalise(got.slice(0, got.lastIndexOf('<group')));
  }

  /**
   * A fresh connection subscribes and acknowledges the synchronisation; with `join`, it joins as
   * "d" at the state it was sent (a user of its own the first time, the same user rejoining after);
   * then it goes away (its user unavailable). What it received.
   */
  async subscribe(join = false): Promise<string> {
    const d = new RawXmpp(this.server.port);
    try {
      const seqId = await d.login('d');
      d.send(dir('<subscribe-session seq="1" id="1"/>'));
      await d.until(`seq="${seqId}/1"/></group>`);
      d.send(dir('<subscribe-ack id="1"/>'));
      let got = await d.until('<sync-end/></group>', 60000);
      d.send(group(SESSION, '<sync-ack/>'));
      if (join) d.send(group(SESSION, `<user-join seq="2" name="d" status="active" time="${currentOf(got)}" caret="0" selection="0" hue="0.9"/>`));
      d.send(dir('<explore-node seq="3" id="77777"/>'));
      got += await d.until('Node does not exist</request-failed></group>');
      // Gone before the next step: its user is unavailable for everyone from here on.
      await d.hangUp();
      await new Promise((r) => setTimeout(r, 50));
      return normalise(got.slice(0, got.lastIndexOf('<group')));
    } finally {
      d.close();
    }
  }

  /** Client `i`, which left the session, subscribes again: the synchronisation (and what came before it). */
  async resubscribe(i: number, seq: number): Promise<string> {
    const c = this.clients[i]!;
    c.send(dir(`<subscribe-session seq="${seq}" id="1"/>`));
    const asked = await c.until(`/${seq}"/></group>`);
    c.send(dir('<subscribe-ack id="1"/>'));
    const sync = await c.until('<sync-end/></group>', 60000);
    c.send(group(SESSION, '<sync-ack/>'));
    return normalise(asked) + normalise(sync) + (await this.read(i));
  }

  /** Runs one step and returns its output. */
  async run(step: Step): Promise<string> {
    if ('subscribe' in step) return this.subscribe(step.subscribe);
    if ('resubscribe' in step) return this.resubscribe(step.resubscribe, step.seq);
    if ('read' in step) return this.read(step.read);
    this.clients[step.client]!.send(step.message);
    return this.read(step.client);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

/** The setup every run shares: a document made by client 0, subscribed to by the others, and a user each. */
const SETUP: Step[] = [
  { client: 0, message: dir('<add-node seq="1" parent="0" type="InfText" name="h"><subscribe/></add-node>') },
  { client: 0, message: dir('<subscribe-ack id="1"/>') },
  ...[1, 2].flatMap((client): Step[] => [
    { client, message: dir('<subscribe-session seq="1" id="1"/>') },
    { client, message: dir('<subscribe-ack id="1"/>') },
    { client, message: group(SESSION, '<sync-ack/>') },
  ]),
  ...[0, 1, 2].map((client): Step => ({
    client,
    message: group(SESSION, `<user-join seq="2" name="${'abc'[client]}" status="active" time="" caret="0" selection="0" hue="0.${client + 2}"/>`),
  })),
  { read: 0 }, { read: 1 }, { read: 2 },
];

interface Typist {
  site: AdoptedSession;
  user: number;
  /** Requests and user changes relayed to it that its site has not seen yet, in order. */
  inbox: Element[];
  /** It left the session (session-unsubscribe), as Gobby does when its tab is closed. */
  away: boolean;
}

const relayedIn = (got: string): Element[] => parseXmlDocument(`<r>${got}</r>`).getChildren('group')
  .filter((g) => g.attrs.name === SESSION).flatMap((g) => g.children.filter((c): c is Element => typeof c !== 'string'))
  .filter((el) => ['request', 'user-status-change', 'user-rejoin'].includes(el.name));

function apply(t: Typist, el: Element): void {
  // The subscriber that joins now and then ("d") makes no requests: the typists need not know it.
  if (el.name !== 'request' && Number(el.attrs.id) > 3) return;
  if (el.name === 'user-status-change') {
    t.site.updateUser(Number(el.attrs.id), { status: el.attrs.status as UserStatus });
    return;
  }
  if (el.name === 'user-rejoin') {
    // The user's vector is where it joined (its own site's state when it is this typist's).
    const u = decodeUser(el);
    t.site.updateUser(u.id, { status: u.status, vector: u.time ?? '', caret: u.caret ?? 0, selection: u.selection ?? 0, local: u.id === t.user });
    return;
  }
  const { request, diff } = decodeRequestAndTime(el);
  const r = t.site.receive({ ...requestBodyFromWire(request.operation), user: request.user, time: diff, num: request.num });
  // A move may select past the end once transformed: libinfinity's clients (and the server) fail
  // on it and go on, and so does the typist (@tandem/adopted caret.ts).
  if (r.error && request.operation.kind === 'move' && isInvalidMove(r.error)) return;
  if (r.error) throw new Error(`typist ${t.user}: a relayed request does not apply: ${r.error.message}`);
}

/** The state a synchronisation brings a client to: each user's own component of its vector. */
function currentOf(sync: string): string {
  const parts: string[] = [];
  for (const m of sync.matchAll(/<sync-user id="(\d+)"[^>]* time="([^"]*)"/g)) {
    const own = new RegExp(`(?:^|;)${m[1]}:(\\d+)`).exec(m[2]!);
    if (own) parts.push(`${m[1]}:${own[1]}`);
  }
  return parts.join(';');
}

/** A typist's site rebuilt from the synchronisation in `got`, as a client builds it. */
function siteOf(got: string): AdoptedSession {
  const state: { users: UserInit[]; requests: Request[]; segments: Segment[] } = { users: [], requests: [], segments: [] };
  for (const g of parseXmlDocument(`<r>${got}</r>`).getChildren('group')) {
    if (g.attrs.name !== SESSION) continue;
    for (const el of g.children) {
      if (typeof el === 'string') continue;
      if (el.name === 'sync-user') {
        const u = decodeUser(el);
        state.users.push({ id: u.id, name: u.name, status: u.status, vector: u.time ?? '', caret: u.caret ?? 0, selection: u.selection ?? 0 });
      } else if (el.name === 'sync-request') state.requests.push(requestFromWireSync(decodeSyncRequest(el)));
      else if (el.name === 'sync-segment') state.segments.push(decodeSyncSegment(el));
    }
  }
  return AdoptedSession.fromSync(state);
}

/** The next edit of a typist: its site's local request, as the message to send. */
function edit(t: Typist, R: (n: number) => number): string {
  const len = t.site.length;
  const roll = R(100);
  // Gobby marks its user inactive when its window loses the focus, and active when it comes back;
  // any request but a no-op makes an inactive user active everywhere without a word.
  if (roll < 3) {
    const status = R(3) === 0 ? 'active' : 'inactive';
    t.site.updateUser(t.user, { status });
    return group(SESSION, `<user-status-change id="${t.user}" status="${status}"/>`);
  }
  let operation: WireOperation;
  let result;
  if (roll < 12 && t.site.canUndo(t.user)) {
    operation = { kind: 'undo' };
    // Gobby undoes several requests at once as one request with num="K".
    result = t.site.localUndo(t.user, R(5) === 0 ? 2 + R(2) : 1);
  } else if (roll < 18 && t.site.canRedo(t.user)) {
    operation = { kind: 'redo' };
    result = t.site.localRedo(t.user, R(5) === 0 ? 2 : 1);
  } else if (roll < 22) {
    const caret = R(len + 1);
    operation = { kind: 'move', caret, selection: R(3) === 0 ? -R(caret + 1) : 0 };
    result = t.site.localMove(t.user, operation.caret, operation.selection);
  } else if (roll < 25) {
    operation = { kind: 'no-op' };
    result = t.site.localNoop(t.user);
  } else if (roll < 55 && len > 0) {
    const pos = R(len);
    operation = { kind: 'delete', pos, len: 1 + R(Math.min(8, len - pos)) };
    result = t.site.localDelete(t.user, pos, operation.len);
  } else {
    operation = { kind: 'insert', pos: R(len + 1), text: TEXTS[R(TEXTS.length)]! };
    result = t.site.localInsert(t.user, operation.pos, operation.text);
  }
  return group(SESSION, serialize(encodeRequest({ user: t.user, time: result.time, num: result.num > 1 ? result.num : undefined, operation })));
}

/**
 * Plays `length` random edits against `server` (infinoted) and returns the script, with
 * subscriptions at `checkpoints`, and each step's output.
 */
async function record(server: ServerUnderTest, seed: number, length: number, checkpoints: Set<number>): Promise<{ steps: Step[]; out: string[] }> {
  const rnd = mulberry32(seed);
  const R = (n: number): number => Math.floor(rnd() * n);
  const room = await Room.open(server);
  const steps: Step[] = [];
  const out: string[] = [];
  const typists: Typist[] = [0, 1, 2].map((i) => {
    const site = new AdoptedSession();
    for (const id of [1, 2, 3]) site.addUser({ id, name: 'abc'[id - 1]!, status: 'active', vector: '', local: id === i + 1 });
    return { site, user: i + 1, inbox: [], away: false };
  });
  let seq = 10;
  const run = async (step: Step): Promise<string> => {
    steps.push(step);
    const got = await room.run(step);
    out.push(got);
    // The server relays a request to everyone but its sender.
    const who = 'read' in step ? step.read : 'client' in step ? step.client : undefined;
    if (who !== undefined && steps.length > SETUP.length) typists[who]!.inbox.push(...relayedIn(got));
    return got;
  };
  try {
    for (const step of SETUP) await run(step);
    for (let n = 0; n < length; n++) {
      if (checkpoints.has(n)) await run({ subscribe: R(2) === 0 });
      const who = R(3);
      const t = typists[who]!;
      if (t.away) {
        // Back: subscribed again, synchronised, and joined again under its name (user-rejoin).
        if (R(2) === 0) continue;
        t.site = siteOf(await run({ resubscribe: who, seq: seq++ }));
        t.inbox = [];
        t.away = false;
        await run({ client: who, message: group(SESSION, `<user-join seq="${seq++}" name="${'abc'[who]}" status="active" time="${t.site.current}" caret="0" selection="0" hue="0.${who + 2}"/>`) });
        for (const el of t.inbox.splice(0)) apply(t, el);
        if (t.site.user(t.user)?.status !== 'active') throw new Error(`seed ${seed}, step ${steps.length}: typist ${t.user} did not rejoin`);
        continue;
      }
      if (R(200) === 0) {
        // Gone: its tab closed. Its user becomes unavailable for the others.
        t.away = true;
        await run({ client: who, message: group(SESSION, '<session-unsubscribe/>') });
        t.inbox = [];
        continue;
      }
      // What came for the typist since its last step is in its inbox; now and then it reads first.
      if (R(4) === 0) await run({ read: who });
      // Catch up with all, some or none of it: what is left makes this edit concurrent.
      const take = t.inbox.length > 12 || R(3) === 0 ? t.inbox.length : R(t.inbox.length + 1);
      try {
        for (const el of t.inbox.splice(0, take)) apply(t, el);
      } catch (err) {
        throw new Error(`seed ${seed}, step ${steps.length}: ${(err as Error).message}`);
      }
      await run({ client: who, message: edit(t, R) });
    }
    for (const i of [0, 1, 2]) if (!typists[i]!.away) await run({ read: i });
    const final = await run({ subscribe: false });
    // Every typist, caught up, holds the text the last subscriber was sent.
    const synced = parseXmlDocument(`<r>${final.slice(final.indexOf('<group'))}</r>`).getChildren('group')
      .flatMap((g) => g.getChildren('sync-segment')).map(readText).join('');
    for (const t of typists.filter((x) => !x.away)) {
      for (const el of t.inbox.splice(0)) apply(t, el);
      expect(t.site.text, `seed ${seed}: typist ${t.user} converged to the synchronised text`).to.equal(synced);
    }
  } finally {
    room.close();
  }
  return { steps, out };
}

/** Sends the recorded script to `server` and returns each step's output. */
async function replay(server: ServerUnderTest, steps: readonly Step[]): Promise<string[]> {
  const room = await Room.open(server);
  const out: string[] = [];
  try {
    for (const step of steps) out.push(await room.run(step));
  } finally {
    room.close();
  }
  return out;
}

describe('tandemd against infinoted on a long concurrent editing session (request log cleanup)', function () {
  this.timeout(300_000);

  before(() => requireRealLibinfinity());

  it('relays every request and synchronises the cleaned-up log as infinoted does', async () => {
    const seed = testSeed();
    const length = Number(process.env.TANDEM_HISTORY_LENGTH ?? 2500);
    // Subscriptions at every sixth of the run and near its end; some of them join as "d" and leave.
    const checkpoints = new Set([1, 2, 3, 4, 5].map((k) => Math.floor((k * length) / 6)).concat(length - 100).filter((n) => n > 0));
    const reference = await startInfinoted({ securityPolicy: 'no-tls' });
    let recorded: { steps: Step[]; out: string[] };
    try {
      recorded = await record(reference, seed, length, checkpoints);
    } finally {
      await reference.stop();
    }
    // TANDEM_HISTORY_DUMP=FILE: the script and infinoted's answers, as JSON.
    if (process.env.TANDEM_HISTORY_DUMP) writeFileSync(process.env.TANDEM_HISTORY_DUMP, JSON.stringify({ seed, ...recorded }));
    const ours = await startTandemd({ securityPolicy: 'no-tls' });
    let mine: string[];
    try {
      mine = await replay(ours, recorded.steps);
    } finally {
      await ours.stop();
    }
    let requests = 0;
    for (let i = 0; i < recorded.steps.length; i++) {
      const step = recorded.steps[i]!;
      const what = 'subscribe' in step ? 'a new subscription' : 'read' in step ? `client ${step.read} read`
        : 'resubscribe' in step ? `client ${step.resubscribe} subscribed again` : `client ${step.client} sent ${step.message}`;
      const [a, b] = [mine[i]!, recorded.out[i]!];
      if (a !== b) {
        let at = 0;
        while (a[at] === b[at]) at++;
        const from = Math.max(0, a.lastIndexOf('<group', at));
        expect.fail(`seed ${seed}, step ${i}: ${what}: from character ${at} on, tandemd sent\n  ${a.slice(from, at + 300)}\nwhere infinoted sent\n  ${b.slice(from, at + 300)}`);
      }
      if ('client' in step && step.message.includes('<request ')) requests++;
    }
    // The last synchronisation: the log was cleaned up (it holds fewer requests than were made).
    const last = recorded.out[recorded.out.length - 1]!;
    const kept = (last.match(/<sync-request /g) ?? []).length;
    const refused = recorded.out.reduce((n, x) => n + (x.match(/<invalid-request /g) ?? []).length, 0);
    console.log(`      ${recorded.steps.length} steps (${requests} requests, ${refused} of them moves refused as libinfinity refuses them) answered alike; `
      + `the last synchronisation kept ${kept} of them`);
    expect(kept).to.be.lessThan(requests);
  });
});
