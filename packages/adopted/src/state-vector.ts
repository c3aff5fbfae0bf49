/**
 * State vectors of the adOPTed algorithm: user id -> number of buffer-changing requests of that
 * user contained in a state. Immutable; components are kept sorted by user id so that the string
 * form ("1:3;2:5", libinfinity's inf_adopted_state_vector_to_string) falls out directly.
 */
export type UserId = number;

export class StateVectorError extends Error {
  /** INF_ADOPTED_STATE_VECTOR_ERROR 0 = BAD_FORMAT, 1 = FAILED. */
  readonly code: number;
  constructor(message: string, code = 0) {
    super(message);
    this.name = 'StateVectorError';
    this.code = code;
  }
}

export class StateVector {
  static readonly zero = new StateVector([], []);

  // Lazily computed caches; vectors are immutable so they never go stale.
  private key: string | undefined;
  private total = -1;
  private denseSlots: ReadonlyMap<UserId, number> | null = null;
  private denseArray: Float64Array | null = null;
  /** The unsigned 32-bit sum of term() over the components; -1 until known. */
  private hashValue: number;

  /** Sorted ascending, no duplicates, no zero counts. */
  private constructor(
    private readonly ids: readonly number[],
    private readonly counts: readonly number[],
    hash = -1,
  ) {
    this.hashValue = hash;
  }

  /** Builds a vector from (user, count) pairs in any order; zero counts are dropped. */
  static from(entries: Iterable<readonly [UserId, number]>): StateVector {
    const map = new Map<number, number>();
    for (const [u, n] of entries) {
      if (!Number.isSafeInteger(u) || u < 0 || !Number.isSafeInteger(n) || n < 0) {
        throw new StateVectorError(`Invalid state vector component ${u}:${n}`);
      }
      map.set(u, n);
    }
    const ids = [...map.keys()].filter((u) => map.get(u)! > 0).sort((a, b) => a - b);
    return new StateVector(ids, ids.map((u) => map.get(u)!));
  }

  /**
   * Parses "ID:N;ID:N". Like inf_adopted_state_vector_from_string it accepts zero components
   * ("4:0" occurs in real records) and rejects duplicates, a missing ':' and trailing garbage.
   */
  static parse(text: string): StateVector {
    if (text === '') return StateVector.zero;
    // Hand-written scanner: vectors are parsed for every received request (no regex, no Map).
    const ids: number[] = [];
    const counts: number[] = [];
    let sorted = true;
    // Ids in strictly ascending order cannot repeat; only once one is not (a hand-made vector)
    // are the ids seen kept in a set. A full vector of a session with a thousand users would
    // otherwise cost a million comparisons.
    let seen: Set<number> | undefined;
    let i = 0;
    while (i <= text.length) {
      let end = text.indexOf(';', i);
      if (end < 0) end = text.length;
      const colon = text.indexOf(':', i);
      const u = colon > i && colon < end - 1 ? digits(text, i, colon) : -1;
      const n = u >= 0 ? digits(text, colon + 1, end) : -1;
      if (u < 0 || n < 0) throw new StateVectorError(`Invalid state vector "${text}": expected ID:N in "${text.slice(i, end)}"`);
      if (u > 0xffffffff || n > 0xffffffff) throw new StateVectorError(`Invalid state vector "${text}": number out of range`);
      if (seen === undefined && ids.length > 0 && ids[ids.length - 1]! >= u) seen = new Set(ids);
      if (seen !== undefined) {
        if (seen.has(u)) throw new StateVectorError(`Invalid state vector "${text}": component ${u} given twice`);
        seen.add(u);
      }
      // A zero component is kept until the end for the duplicate check; from() drops it.
      if (n === 0 || (ids.length > 0 && ids[ids.length - 1]! > u)) sorted = false;
      ids.push(u);
      counts.push(n);
      i = end + 1;
    }
    if (sorted) return new StateVector(ids, counts);
    return StateVector.from(ids.map((u, k) => [u, counts[k]!] as const));
  }

  /**
   * Parses as inf_adopted_state_vector_from_string does, for input that is not in the canonical
   * form: each number is read by strtoul (base 10: white space and a sign before it; no digits
   * read as 0; "-1" wraps) and kept in a guint, ';' after the last component is allowed. Throws
   * libinfinity's messages. parse() is the strict reader for canonical text.
   */
  static parseLikeLibinfinity(text: string): StateVector {
    const map = new Map<number, number>();
    let i = 0;
    while (i < text.length) {
      const id = strtoulGuint(text, i);
      if (text[id.end] !== ':') throw new StateVectorError('Expected ":" after ID');
      if (map.has(id.value)) throw new StateVectorError(`ID '${id.value}' already occurred before`);
      const n = strtoulGuint(text, id.end + 1);
      if (n.end < text.length && text[n.end] !== ';') throw new StateVectorError(`Expected ';' or end of string after component of ID '${id.value}'`);
      map.set(id.value, n.value);
      i = n.end < text.length ? n.end + 1 : n.end;
    }
    return StateVector.from(map);
  }

  get(user: UserId): number {
    const ids = this.ids;
    // Vectors are short (one component per user): a linear scan beats binary search there.
    if (ids.length <= 8) {
      for (let i = 0; i < ids.length; i++) if (ids[i] === user) return this.counts[i]!;
      return 0;
    }
    const i = this.indexOf(user);
    return i >= 0 ? this.counts[i]! : 0;
  }

  /** A copy with `user`'s component set to `count`. */
  set(user: UserId, count: number): StateVector {
    const i = this.indexOf(user);
    if (i >= 0) {
      const old = this.counts[i]!;
      if (old === count) return this;
      if (count < 0 || !Number.isSafeInteger(count)) throw new StateVectorError(`Invalid state vector component ${user}:${count}`);
      const hash = this.derivedHash(user, old, count);
      if (count === 0) {
        const ids = this.ids.slice();
        const counts = this.counts.slice();
        ids.splice(i, 1);
        counts.splice(i, 1);
        return new StateVector(ids, counts, hash);
      }
      const counts = this.counts.slice();
      counts[i] = count;
      return new StateVector(this.ids, counts, hash);
    }
    if (count === 0) return this;
    if (count < 0 || !Number.isSafeInteger(count)) throw new StateVectorError(`Invalid state vector component ${user}:${count}`);
    // Insert keeping ids sorted; ids arrays are shared between vectors, so never mutate them.
    let at = 0;
    while (at < this.ids.length && this.ids[at]! < user) at++;
    const ids = this.ids.slice();
    const counts = this.counts.slice();
    ids.splice(at, 0, user);
    counts.splice(at, 0, count);
    return new StateVector(ids, counts, this.derivedHash(user, 0, count));
  }

  /** A copy with `user`'s component increased by `by` (which may be negative). */
  add(user: UserId, by = 1): StateVector {
    const n = this.get(user) + by;
    if (n < 0) throw new StateVectorError(`State vector component ${user} would become negative`, 1);
    return this.set(user, n);
  }

  /** Component-wise sum. */
  plus(other: StateVector): StateVector {
    return this.merge(other, (a, b) => a + b);
  }

  /** Component-wise difference `this - base`; throws if any component would be negative. */
  minus(base: StateVector): StateVector {
    if (!base.causallyBefore(this)) throw new StateVectorError(`State vector ${this} is not a successor of ${base}`, 1);
    return this.merge(base, (a, b) => a - b);
  }

  /** Component-wise maximum (the least common successor of two states). */
  max(other: StateVector): StateVector {
    return this.merge(other, (a, b) => (a > b ? a : b));
  }

  /** Component-wise minimum. */
  min(other: StateVector): StateVector {
    return this.merge(other, (a, b) => (a < b ? a : b));
  }

  /** Component-wise minimum of this and all of `others`, built once (not one vector per step). */
  minAll(others: Iterable<StateVector>): StateVector {
    const ids = this.ids.slice();
    const counts = this.counts.slice();
    for (const o of others) {
      const b = o.ids;
      let j = 0;
      for (let i = 0; i < ids.length; i++) {
        if (counts[i] === 0) continue;
        const id = ids[i]!;
        while (j < b.length && b[j]! < id) j++;
        const c = j < b.length && b[j] === id ? o.counts[j]! : 0;
        if (c < counts[i]!) counts[i] = c;
      }
    }
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      if (counts[i] === 0) continue;
      ids[n] = ids[i]!;
      counts[n++] = counts[i]!;
    }
    if (n === ids.length && n === this.ids.length && counts.every((c, i) => c === this.counts[i])) return this;
    ids.length = n;
    counts.length = n;
    return new StateVector(ids, counts);
  }

  /** Applies `fn` to every component present in either vector (missing = 0), dropping zeros. */
  private merge(other: StateVector, fn: (a: number, b: number) => number): StateVector {
    const ids: number[] = [];
    const counts: number[] = [];
    this.pairs(other, (id, x, y) => {
      const n = fn(x, y);
      if (n !== 0) {
        ids.push(id);
        counts.push(n);
      }
    });
    return new StateVector(ids, counts);
  }

  /** Calls `visit` for every component present in either vector (missing = 0), in id order. */
  pairs(other: StateVector, visit: (id: UserId, mine: number, theirs: number) => void): void {
    let i = 0;
    let j = 0;
    const a = this.ids;
    const b = other.ids;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
        visit(a[i]!, this.counts[i++]!, 0);
      } else if (i >= a.length || b[j]! < a[i]!) {
        visit(b[j]!, 0, other.counts[j++]!);
      } else {
        visit(a[i]!, this.counts[i++]!, other.counts[j++]!);
      }
    }
  }

  /**
   * Writes `ref`'s count of each of this vector's users, in users() order, to `out` (one walk over
   * both; `out` must hold users().length numbers). For code that looks at every component of a
   * long vector beside another: a get() per component would search `ref` each time.
   */
  alignedCounts(ref: StateVector, out: Float64Array): void {
    const a = this.ids;
    const b = ref.ids;
    let j = 0;
    for (let i = 0; i < a.length; i++) {
      const id = a[i]!;
      while (j < b.length && b[j]! < id) j++;
      out[i] = j < b.length && b[j] === id ? ref.counts[j]! : 0;
    }
  }

  /** True iff every component of this is <= the one of `other` (inf_adopted_state_vector_causally_before). */
  causallyBefore(other: StateVector): boolean {
    const a = this.ids;
    const b = other.ids;
    let j = 0;
    for (let i = 0; i < a.length; i++) {
      const id = a[i]!;
      while (j < b.length && b[j]! < id) j++;
      if (j >= b.length || b[j] !== id || this.counts[i]! > other.counts[j]!) return false;
    }
    return true;
  }

  /** Like causallyBefore, with `user`'s component of this increased by one first. */
  causallyBeforeInc(other: StateVector, user: UserId): boolean {
    const a = this.ids;
    const b = other.ids;
    let j = 0;
    let own = false;
    for (let i = 0; i < a.length; i++) {
      const id = a[i]!;
      while (j < b.length && b[j]! < id) j++;
      const limit = j < b.length && b[j] === id ? other.counts[j]! : 0;
      let n = this.counts[i]!;
      if (id === user) {
        n++;
        own = true;
      }
      if (n > limit) return false;
    }
    return own || other.get(user) >= 1;
  }

  /** Sum of all components. */
  sum(): number {
    if (this.total < 0) {
      let s = 0;
      for (const n of this.counts) s += n;
      this.total = s;
    }
    return this.total;
  }

  /** sum(other) - sum(this), the number of requests between two causally ordered states. */
  vdiff(other: StateVector): number {
    return other.sum() - this.sum();
  }

  equals(other: StateVector): boolean {
    if (this.ids.length !== other.ids.length) return false;
    for (let i = 0; i < this.ids.length; i++) {
      if (this.ids[i] !== other.ids[i] || this.counts[i] !== other.counts[i]) return false;
    }
    return true;
  }

  /**
   * A 31-bit hash of the components, equal for equal vectors (translation caches key on it
   * instead of building the string form of every intermediate vector). It is a sum of one term
   * per component, so a vector made by set()/add() gets its hash from its parent's in O(1):
   * translation makes a new vector per step, each looked up in a cache.
   */
  hash(): number {
    if (this.hashValue < 0) {
      let h = 0;
      for (let i = 0; i < this.ids.length; i++) h = (h + term(this.ids[i]!, this.counts[i]!)) | 0;
      this.hashValue = h >>> 0;
    }
    return this.hashValue & 0x7fffffff;
  }

  /** The hash of this vector with one component changed from `from` to `to`, if this one's is known. */
  private derivedHash(user: UserId, from: number, to: number): number {
    if (this.hashValue < 0) return -1;
    return (this.hashValue + hashDelta(user, from, to)) >>> 0;
  }

  /** The hash before it is cut to 31 bits (hash() & 0x7fffffff), to be updated with hashDelta(). */
  rawHash(): number {
    this.hash();
    return this.hashValue;
  }

  /**
   * The components as an array indexed by `slots` (user id -> index), cached for the last slots
   * map asked for: the translation walk compares request vectors with its state this way.
   * Returns null if a user has no slot.
   */
  dense(slots: ReadonlyMap<UserId, number>): Float64Array | null {
    if (this.denseSlots === slots) return this.denseArray;
    let size = 0;
    const at: number[] = [];
    for (const id of this.ids) {
      const k = slots.get(id);
      if (k === undefined) {
        at.length = 0;
        break;
      }
      at.push(k);
      if (k + 1 > size) size = k + 1;
    }
    let arr: Float64Array | null = null;
    if (at.length === this.ids.length) {
      arr = new Float64Array(size);
      for (let i = 0; i < at.length; i++) arr[at[i]!] = this.counts[i]!;
    }
    this.denseSlots = slots;
    this.denseArray = arr;
    return arr;
  }

  /**
   * Writes the slots (user positions in `slots`) and target counts of the components that are
   * greater in `to` than here, in id order; returns how many, or -1 if a component of `to` is
   * smaller (not reachable) or a user has no slot.
   */
  increases(to: StateVector, slots: ReadonlyMap<UserId, number>, outSlot: Int32Array, outTo: Float64Array): number {
    const a = this.ids;
    const b = to.ids;
    let i = 0;
    let n = 0;
    for (let j = 0; j < b.length; j++) {
      const id = b[j]!;
      if (i < a.length && a[i]! < id) return -1; // a component missing from `to` is smaller there
      let have = 0;
      if (i < a.length && a[i] === id) have = this.counts[i++]!;
      const want = to.counts[j]!;
      if (want < have) return -1;
      if (want > have) {
        const k = slots.get(id);
        if (k === undefined) return -1;
        outSlot[n] = k;
        outTo[n++] = want;
      }
    }
    return i < a.length ? -1 : n;
  }

  /** True iff this vector's components are exactly `state` (indexed by `slots`, `nonzero` of them non-zero). */
  equalsDense(state: ArrayLike<number>, slots: ReadonlyMap<UserId, number>, nonzero: number): boolean {
    if (this.ids.length !== nonzero) return false;
    for (let i = 0; i < this.ids.length; i++) {
      const k = slots.get(this.ids[i]!);
      if (k === undefined || state[k] !== this.counts[i]) return false;
    }
    return true;
  }

  /** Users with a non-zero component, ascending. */
  users(): readonly UserId[] {
    return this.ids;
  }

  /** The count of the i-th component in users() order. */
  countAt(i: number): number {
    return this.counts[i]!;
  }

  *entries(): IterableIterator<[UserId, number]> {
    for (let i = 0; i < this.ids.length; i++) yield [this.ids[i]!, this.counts[i]!];
  }

  /** "ID:N;ID:N", ascending ids, zero components omitted, "" for the zero vector. */
  toString(): string {
    if (this.key === undefined) {
      let s = '';
      for (let i = 0; i < this.ids.length; i++) s += (i ? ';' : '') + this.ids[i] + ':' + this.counts[i];
      this.key = s;
    }
    return this.key;
  }

  private indexOf(user: UserId): number {
    let lo = 0;
    let hi = this.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.ids[mid]!;
      if (v === user) return mid;
      if (v < user) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** The change of a raw hash (rawHash()) when `id`'s component goes from `from` to `to`. */
export function hashDelta(id: number, from: number, to: number): number {
  return ((to === 0 ? 0 : term(id, to)) - (from === 0 ? 0 : term(id, from))) | 0;
}

/** One component's share of a vector's hash (never used for a zero component). */
function term(id: number, count: number): number {
  let h = Math.imul(id ^ 0x2f1b3c5d, 0x9e3779b1);
  h = Math.imul(h ^ count, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 13)) | 0;
}

/** The decimal number in text[from, to), or -1 unless it is ASCII digits only. */
function digits(text: string, from: number, to: number): number {
  if (to <= from) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const C_SPACE = ' \t\n\v\f\r';

/**
 * strtoul(text + from, &end, 10) as glibc reads it, the result cast to a 32-bit guint: white
 * space and one sign may precede the digits; without digits the value is 0 and `end` is `from`.
 */
function strtoulGuint(text: string, from: number): { value: number; end: number } {
  let i = from;
  while (i < text.length && C_SPACE.includes(text[i]!)) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') negative = text[i++] === '-';
  const start = i;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i === start) return { value: 0, end: from };
  let v = BigInt(text.slice(start, i));
  if (v > 0xffffffffffffffffn) v = 0xffffffffffffffffn; // ERANGE: ULONG_MAX, whatever the sign
  else if (negative) v = (1n << 64n) - v;
  return { value: Number(v & 0xffffffffn), end: i };
}
