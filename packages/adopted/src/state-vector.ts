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

  /** Sorted ascending, no duplicates, no zero counts. */
  private constructor(
    private readonly ids: readonly number[],
    private readonly counts: readonly number[],
  ) {}

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
    const seen = new Set<number>();
    const entries: [number, number][] = [];
    for (const part of text.split(';')) {
      const m = /^(\d+):(\d+)$/.exec(part);
      if (!m) throw new StateVectorError(`Invalid state vector "${text}": expected ID:N in "${part}"`);
      const u = Number(m[1]);
      const n = Number(m[2]);
      if (!Number.isSafeInteger(u) || !Number.isSafeInteger(n) || u > 0xffffffff || n > 0xffffffff) {
        throw new StateVectorError(`Invalid state vector "${text}": number out of range`);
      }
      if (seen.has(u)) throw new StateVectorError(`Invalid state vector "${text}": component ${u} given twice`);
      seen.add(u);
      entries.push([u, n]);
    }
    return StateVector.from(entries);
  }

  get(user: UserId): number {
    const i = this.indexOf(user);
    return i >= 0 ? this.counts[i]! : 0;
  }

  /** A copy with `user`'s component set to `count`. */
  set(user: UserId, count: number): StateVector {
    if (this.get(user) === count) return this;
    const map = new Map(this.entries());
    map.set(user, count);
    return StateVector.from(map);
  }

  /** A copy with `user`'s component increased by `by` (which may be negative). */
  add(user: UserId, by = 1): StateVector {
    const n = this.get(user) + by;
    if (n < 0) throw new StateVectorError(`State vector component ${user} would become negative`, 1);
    return this.set(user, n);
  }

  /** Component-wise sum. */
  plus(other: StateVector): StateVector {
    const map = new Map(this.entries());
    for (const [u, n] of other.entries()) map.set(u, (map.get(u) ?? 0) + n);
    return StateVector.from(map);
  }

  /** Component-wise difference `this - base`; throws if any component would be negative. */
  minus(base: StateVector): StateVector {
    const map = new Map(this.entries());
    for (const [u, n] of base.entries()) {
      const d = (map.get(u) ?? 0) - n;
      if (d < 0) throw new StateVectorError(`State vector ${this} is not a successor of ${base}`, 1);
      map.set(u, d);
    }
    return StateVector.from(map);
  }

  /** Component-wise maximum (the least common successor of two states). */
  max(other: StateVector): StateVector {
    const map = new Map(this.entries());
    for (const [u, n] of other.entries()) map.set(u, Math.max(map.get(u) ?? 0, n));
    return StateVector.from(map);
  }

  /** Component-wise minimum. */
  min(other: StateVector): StateVector {
    const entries: [number, number][] = [];
    for (const [u, n] of this.entries()) entries.push([u, Math.min(n, other.get(u))]);
    return StateVector.from(entries);
  }

  /** True iff every component of this is <= the one of `other` (inf_adopted_state_vector_causally_before). */
  causallyBefore(other: StateVector): boolean {
    for (let i = 0; i < this.ids.length; i++) {
      if (this.counts[i]! > other.get(this.ids[i]!)) return false;
    }
    return true;
  }

  /** Like causallyBefore, with `user`'s component of this increased by one first. */
  causallyBeforeInc(other: StateVector, user: UserId): boolean {
    if (this.get(user) + 1 > other.get(user)) return false;
    for (let i = 0; i < this.ids.length; i++) {
      if (this.ids[i] !== user && this.counts[i]! > other.get(this.ids[i]!)) return false;
    }
    return true;
  }

  /** Sum of all components. */
  sum(): number {
    let s = 0;
    for (const n of this.counts) s += n;
    return s;
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

  /** Users with a non-zero component, ascending. */
  users(): readonly UserId[] {
    return this.ids;
  }

  *entries(): IterableIterator<[UserId, number]> {
    for (let i = 0; i < this.ids.length; i++) yield [this.ids[i]!, this.counts[i]!];
  }

  /** "ID:N;ID:N", ascending ids, zero components omitted, "" for the zero vector. */
  toString(): string {
    let s = '';
    for (let i = 0; i < this.ids.length; i++) s += (i ? ';' : '') + this.ids[i] + ':' + this.counts[i];
    return s;
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
