/**
 * One user's request log (inf-adopted-request-log.c): the user's buffer-changing requests at
 * indices begin..end-1, the undo/redo associations between them, the "related" ranges that
 * cleanup must remove together, and the cache of translated requests.
 */
import { DO, REDO, UNDO, indexOf, type Req, type ReqType } from './request.js';
import type { StateVector, UserId } from './state-vector.js';

interface Entry {
  readonly req: Req;
  readonly index: number;
  /** Its place in the order this site executed requests in; -1 if not executed here (synchronised). */
  readonly seq: number;
  /** The DO this entry (an undo or redo) ultimately refers to; itself for a DO. */
  original: Entry;
  /** The undo of a DO/redo, or the redo of an undo. */
  nextAssoc: Entry | null;
  prevAssoc: Entry | null;
  /** The related set this entry was added to; follow `parent` to the set it belongs to now. */
  set: RelatedSet;
}

/**
 * A set of consecutive requests that can only be removed together, from `lower` to `upper`.
 * libinfinity stores lower/upper in every entry and rewrites all of them when an undo joins sets,
 * which is quadratic for a long run of undos; here joined sets point to the new one (union-find).
 */
interface RelatedSet {
  lower: Entry;
  upper: Entry;
  parent: RelatedSet | null;
}

/** The set an entry belongs to now, shortening the parent chain on the way. */
function setOf(e: Entry): RelatedSet {
  let root = e.set;
  while (root.parent) root = root.parent;
  let s = e.set;
  while (s !== root) {
    const next = s.parent!;
    s.parent = root;
    s = next;
  }
  e.set = root;
  return root;
}

/** The cached translations of one request by vector hash, and when they were last used. */
class CacheSlot extends Map<number, Req | Req[]> {
  used = 0;
}

/** Ticks at every use of a cached translation: eviction drops the least recently used first. */
let useClock = 0;

export class RequestLog {
  private entries: Entry[] = [];
  // entries[off] holds index `begin`; removal just advances `off` and compacts now and then.
  private off = 0;
  private nextUndoEntry: Entry | null = null;
  private nextRedoEntry: Entry | null = null;
  // Translations of this user's requests, by the translated request's own index, then by the
  // hash of its vector (a bucket is one request or, on a hash collision, a list of them).
  private cache = new Map<number, CacheSlot>();
  /** Indices below this one have no cached translations left (cacheAge). */
  private cacheLow = 0;
  /** Cached translations held, over all indices. */
  private cached = 0;

  constructor(
    readonly user: UserId,
    private first = 0,
  ) {}

  get begin(): number {
    return this.first;
  }

  get end(): number {
    return this.first + this.entries.length - this.off;
  }

  get size(): number {
    return this.entries.length - this.off;
  }

  /** The sum of the vector of the first logged request (Infinity for an empty log). */
  get firstSum(): number {
    const e = this.entries[this.off];
    return e === undefined ? Infinity : e.req.vector.sum();
  }

  /** Moves an empty log to start at `n` (inf_adopted_request_log_set_begin). */
  setBegin(n: number): void {
    if (this.size !== 0) throw new Error('setBegin on a non-empty log');
    this.first = n;
  }

  get(n: number): Req {
    return this.entry(n).req;
  }

  /** The execution order place that request n was added with (-1: not executed here). */
  seqOf(n: number): number {
    return this.entry(n).seq;
  }

  has(n: number): boolean {
    return n >= this.first && n < this.end;
  }

  nextUndo(): Req | null {
    return this.nextUndoEntry ? this.nextUndoEntry.req : null;
  }

  nextRedo(): Req | null {
    return this.nextRedoEntry ? this.nextRedoEntry.req : null;
  }

  /**
   * Appends a request; the caller has checked its index and that an undo/redo has a target.
   * `seq` is the request's place in this site's execution order (-1: not executed here).
   */
  add(req: Req, seq = -1): void {
    if (this.size === 0) this.first = indexOf(req);
    const e = { req, index: indexOf(req), seq } as Entry;
    e.nextAssoc = null;
    e.prevAssoc = null;
    this.entries.push(e);
    if (req.type === DO) {
      e.original = e;
      e.set = { lower: e, upper: e, parent: null };
      this.nextUndoEntry = e;
      this.nextRedoEntry = null;
      return;
    }
    const target = req.type === UNDO ? this.nextUndoEntry : this.nextRedoEntry;
    if (!target) throw new Error('undo/redo without a target in the log');
    e.prevAssoc = target;
    target.nextAssoc = e;
    e.original = target.original;
    // Everything from the original's set up to this entry now forms one related set. Sets are
    // consecutive ranges, so walking back set by set ends exactly at the original's lower end.
    const joined: RelatedSet = { lower: setOf(e.original).lower, upper: e, parent: null };
    e.set = joined;
    for (let i = e.index - 1; i >= joined.lower.index; ) {
      const s = setOf(this.entry(i));
      s.parent = joined;
      i = s.lower.index - 1;
    }
    if (req.type === UNDO) {
      this.nextUndoEntry = this.findAssociated(UNDO);
      this.nextRedoEntry = e;
    } else {
      this.nextUndoEntry = e;
      this.nextRedoEntry = this.findAssociated(REDO);
    }
  }

  /** The index of the undo/redo that refers back to logged request n, or -1. */
  nextAssociatedIndex(n: number): number {
    const e = this.entry(n).nextAssoc;
    return e ? e.index : -1;
  }

  /** The DO that logged request n is or refers to (originalOf for a logged request, faster). */
  originalAt(n: number): Req {
    return this.entry(n).original.req;
  }

  /**
   * The DO that `req` (logged or about to be) refers to (inf_adopted_request_log_original_request).
   * Returns null if `req` is an undo/redo that has nothing to refer to.
   */
  originalOf(req: Req): Req | null {
    const n = indexOf(req);
    if (n === this.end) {
      if (req.type === DO) return req;
      const e = req.type === UNDO ? this.nextUndoEntry : this.nextRedoEntry;
      return e ? e.original.req : null;
    }
    if (req.type === DO) return req;
    return this.entry(n).original.req;
  }

  /** The last request of the related set containing request n. */
  upperRelated(n: number): Req {
    return setOf(this.entry(n)).upper.req;
  }

  /** Drops requests begin..upTo-1 (a whole number of related sets) and their cached translations. */
  removeUpTo(upTo: number): void {
    const k = upTo - this.first;
    if (k <= 0) return;
    if (this.nextUndoEntry && this.nextUndoEntry.index < upTo) this.nextUndoEntry = null;
    if (this.nextRedoEntry && this.nextRedoEntry.index < upTo) this.nextRedoEntry = null;
    const from = this.first;
    this.off += k;
    this.first = upTo;
    if (this.off > 256 && this.off * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.off);
      this.off = 0;
    }
    // Cached translations are keyed by an index >= begin: delete the removed range, or walk the
    // keys if there are fewer of them (the cache may hold thousands of indices).
    if (k < this.cache.size) for (let n = from; n < upTo; n++) this.cacheDrop(n);
    else for (const n of this.cache.keys()) if (n < upTo) this.cacheDrop(n);
  }

  cacheGet(to: StateVector): Req | undefined {
    const b = this.cacheCandidates(to.get(this.user), to.hash());
    if (b === undefined) return undefined;
    if (!Array.isArray(b)) return (b as Req).vector.equals(to) ? (b as Req) : undefined;
    for (const r of b as readonly Req[]) if (r.vector.equals(to)) return r;
    return undefined;
  }

  /** The cached translations of request `index` whose vectors hash to `hash` (31 bits), if any. */
  cacheCandidates(index: number, hash: number): Req | readonly Req[] | undefined {
    const m = this.cache.get(index);
    const b = m?.get(hash);
    if (b !== undefined) m!.used = ++useClock;
    return b;
  }

  /** Caches a translation, replacing one at the same vector. */
  cacheAdd(req: Req): void {
    const n = indexOf(req);
    let m = this.cache.get(n);
    if (!m) this.cache.set(n, (m = new CacheSlot()));
    m.used = ++useClock;
    const h = req.vector.hash();
    const b = m.get(h);
    if (b === undefined || (!Array.isArray(b) && b.vector.equals(req.vector))) {
      if (b === undefined) this.cached++;
      m.set(h, req);
    } else if (!Array.isArray(b)) {
      m.set(h, [b, req]);
      this.cached++;
    } else {
      const i = b.findIndex((r) => r.vector.equals(req.vector));
      if (i >= 0) b[i] = req;
      else {
        b.push(req);
        this.cached++;
      }
    }
  }

  /** How many translations the cache holds. */
  get cacheSize(): number {
    return this.cached;
  }

  /** Forgets the cached translations of request `n`. */
  cacheDrop(n: number): void {
    const m = this.cache.get(n);
    if (!m) return;
    for (const b of m.values()) this.cached -= Array.isArray(b) ? b.length : 1;
    this.cache.delete(n);
  }

  /**
   * Forgets the cached translations of requests older than `sum` (their vector's sum): a
   * translation is only looked up again while a request concurrent with it arrives, and the cache
   * is a memo, so this bounds its memory without changing any result.
   */
  cacheAge(sum: number): void {
    let n = Math.max(this.cacheLow, this.first);
    const end = this.end;
    while (n < end && this.entry(n).req.vector.sum() < sum) this.cacheDrop(n++);
    this.cacheLow = n;
  }

  /**
   * Own indices of the requests that have cached translations, how many each has, and when one
   * of them was last looked up or added (a clock shared by every log).
   */
  *cachedRequests(): IterableIterator<[index: number, count: number, used: number]> {
    for (const [n, m] of this.cache) {
      let count = 0;
      for (const b of m.values()) count += Array.isArray(b) ? b.length : 1;
      yield [n, count, m.used];
    }
  }

  /** Forgets cached translations at own index >= n (after a request that failed to execute). */
  cacheDropFrom(n: number): void {
    for (const k of this.cache.keys()) if (k >= n) this.cacheDrop(k);
  }

  /** Every logged request, begin to end. */
  *requests(): IterableIterator<Req> {
    for (let i = this.off; i < this.entries.length; i++) yield this.entries[i]!.req;
  }

  private entry(n: number): Entry {
    const e = this.entries[this.off + n - this.first];
    if (!e || n < this.first) throw new Error(`request ${n} of user ${this.user} is not in the log (${this.first}..${this.end})`);
    return e;
  }

  /** The request an undo (or redo) issued now would refer to (find_associated). */
  private findAssociated(type: ReqType): Entry | null {
    let i = this.end - 1;
    while (i >= this.first) {
      const e = this.entry(i);
      switch (e.req.type) {
        case DO:
          return type === REDO ? null : e;
        case UNDO:
          if (type !== UNDO) return e;
          i = e.prevAssoc!.index - 1;
          break;
        case REDO:
          if (type !== REDO) return e;
          i = e.prevAssoc!.index - 1;
          break;
      }
    }
    return null;
  }
}
