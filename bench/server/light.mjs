// A light typist: a @tandem/client connection whose text session, once synchronised, stops
// running the adOPTed engine. With the central method the server relays every request verbatim,
// so a client that never has a request of its own in flight against a remote one only needs to
// know HOW MANY buffer-changing requests of each user it has seen (its state vector) to send
// valid requests: inserts at a position within the document, deletes within it. It keeps a lower
// bound of the document length (a relayed delete of n characters removes at most n at our state
// once transformed, an insert adds exactly its length), so its edits are always in range.
//
// Why: a full site translates each relayed request against its concurrent ones, as the server
// does; K full clients in one load process do K times the server's engine work (notes.md).
// Vectors and their diff encoding follow libinfinity's inf-adopted-session.c (protocol.md §5.5):
// the own component counts our own requests, `time` is the vector minus the reference the
// receivers hold for us (the join vector, then the vector of our last request plus one).
import { StateVector } from '@tandem/adopted';
import { decodeRequest, decodeUser, encodeRequest, encodeUserJoinRequest } from '@tandem/protocol';

/** Requests that advance the vector (inf_adopted_request_affects_buffer): no-op and move do not. */
function bufferSteps(req) {
  const op = req.operation;
  if (op.kind === 'no-op' || op.kind === 'move') return 0;
  return req.num ?? 1;
}

const cpLength = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export class LightTypist {
  /**
   * Takes over a TextDocument opened WITHOUT joining: reads the synchronised state from its
   * session proxy, then routes the session's messages here instead of to the engine.
   * `onInsert(text)` is called for every relayed insert (the latency tag).
   */
  constructor(doc, name, onInsert) {
    // The bench reaches into @tandem/client's session proxy on purpose: it is the only client
    // that can speak the protocol without the engine, and a copy of its stream code would be worse.
    const proxy = doc.session;
    this.proxy = proxy;
    this.conn = proxy.conn;
    this.group = proxy.group;
    this.name = name;
    this.onInsert = onInsert;
    const site = proxy.site;
    /** user id -> buffer-changing requests executed at our state. */
    this.counts = new Map();
    for (const part of site.current.toString().split(';').filter(Boolean)) {
      const [id, n] = part.split(':').map(Number);
      this.counts.set(id, n);
    }
    /** Lower bound of the document length in code points. */
    this.length = cpLength(site.text);
    /** Components changed since our last send: the `time` diff (zero components are omitted). */
    this.pending = new Map();
    this.me = undefined;
    this.joinWaiter = undefined;
    this.relayed = 0;
    this.relayedInserts = 0;
    this.invalidRequests = 0;
    /** An undo/redo arrived: the length bound is lost (the bench never sends them). */
    this.unbounded = false;
    this.closed = false;
    proxy.handle = (el) => this.handle(el);
  }

  handle(el) {
    switch (el.name) {
      case 'request': {
        const req = decodeRequest(el);
        const steps = bufferSteps(req);
        if (steps === 0) return;
        this.counts.set(req.user, (this.counts.get(req.user) ?? 0) + steps);
        this.pending.set(req.user, (this.pending.get(req.user) ?? 0) + steps);
        this.relayed += steps;
        const op = req.operation;
        if (op.kind === 'insert') {
          this.length += cpLength(op.text);
          this.relayedInserts++;
          this.onInsert(op.text);
        } else if (op.kind === 'delete') {
          this.length -= 'len' in op ? op.len : op.segments.reduce((n, s) => n + cpLength(s.text), 0);
        } else this.unbounded = true;
        return;
      }
      case 'user-join':
      case 'user-rejoin': {
        const u = decodeUser(el);
        if (u.name === this.name && this.joinWaiter) {
          this.me = u.id;
          // The receivers decode our first diff against the vector of the join (infd_session_proxy).
          const ref = u.time ?? this.joinVector;
          this.pending = new Map();
          for (const [id, n] of this.counts) if (id !== u.id && n !== ref.get(id)) this.pending.set(id, n - ref.get(id));
          this.counts.set(u.id, ref.get(u.id));
          this.joinWaiter.resolve();
        }
        return;
      }
      case 'request-failed':
        this.joinWaiter?.reject(new Error(`${this.name} could not join ${this.group}`));
        return;
      case 'invalid-request':
        this.invalidRequests++;
        return;
      case 'session-close':
      case 'sync-error':
        this.closed = true;
        return;
      default:
        return;
    }
  }

  /** Joins the session as `name` at our current state (user-join, protocol.md §5.2). */
  join(timeoutMs = 120000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no user-join reply in ${timeoutMs} ms`)), timeoutMs);
      this.joinWaiter = {
        resolve: () => { clearTimeout(timer); this.joinWaiter = undefined; resolve(); },
        reject: (e) => { clearTimeout(timer); this.joinWaiter = undefined; reject(e); },
      };
      const time = this.joinVector = StateVector.parse([...this.counts].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]).map(([id, n]) => `${id}:${n}`).join(';'));
      this.conn.send(this.group, encodeUserJoinRequest({ seq: 0, name: this.name, status: 'active', time, caret: 0, hue: 0.5 }));
    });
  }

  /** Sends an insert or delete (code points) valid at our state. */
  send(operation) {
    const time = [...this.pending].filter(([, n]) => n !== 0).sort((a, b) => a[0] - b[0]).map(([id, n]) => `${id}:${n}`).join(';');
    this.pending.clear();
    this.conn.send(this.group, encodeRequest({ user: this.me, time, operation }));
    this.counts.set(this.me, this.counts.get(this.me) + 1);
    if (operation.kind === 'insert') this.length += cpLength(operation.text);
    else this.length -= operation.len;
  }
}
