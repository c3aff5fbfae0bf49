/**
 * The common state of the cleanup: the component-wise minimum of the current state and of the
 * vectors of every available user (what all sites are known to have executed). libinfinity
 * computes it from all vectors for each request, O(users^2); with dozens of users that was a
 * third of the engine's time in a long session (bench/engine/central.mjs). Here it is kept up to
 * date: a user's new vector changes the minimum only in components where that user held it or
 * now goes below it, and only those components are looked at again. Users becoming available or
 * not, or joining, rebuild it.
 */
import type { AlgoUser } from './algorithm.js';
import { StateVector, type UserId } from './state-vector.js';

/** More components whose minimum rose than this rebuild it in one pass instead of one by one. */
const REBUILD_AT = 8;

export class CommonState {
  /** The available users the minimum was built from, in `users` order, and their vectors then. */
  private members: AlgoUser[] = [];
  private seen: StateVector[] = [];
  /** Minimum over `seen`, non-zero components only; null without available users. */
  private min: Map<UserId, number> | null = null;
  private minVector: StateVector | null = null;
  /** Per component, where in `seen` a vector holding its minimum was last found (a hint). */
  private holder = new Map<UserId, number>();
  private last: StateVector | null = null;
  /**
   * Changes whenever the common state does (in value), so that the cleanup can tell which of
   * its earlier verdicts still hold.
   */
  version = 0;

  /** The common state for `users` now (their vectors and status as they are) and `current`. */
  state(users: readonly AlgoUser[], current: StateVector): StateVector {
    this.update(users);
    let lcp = current;
    if (this.min) {
      this.minVector ??= StateVector.from(this.min);
      // Vectors of users whose request waits in a queue may be ahead of the current state.
      lcp = this.minVector.causallyBefore(current) ? this.minVector : this.minVector.min(current);
    }
    if (!this.last || (lcp !== this.last && !lcp.equals(this.last))) this.version++;
    this.last = lcp;
    return lcp;
  }

  private update(users: readonly AlgoUser[]): void {
    let k = 0;
    let same = true;
    for (const u of users) {
      if (u.status === 'unavailable') continue;
      if (this.members[k] !== u) {
        same = false;
        break;
      }
      k++;
    }
    if (!same || k !== this.members.length) {
      this.rebuild(users);
      return;
    }
    const stale = new Set<UserId>();
    for (let i = 0; i < this.members.length; i++) {
      const now = this.members[i]!.vector;
      const before = this.seen[i]!;
      if (now === before) continue;
      this.seen[i] = now;
      if (!this.lower(before, now, stale)) {
        this.rebuild(users);
        return;
      }
    }
    // A stale component keeps its minimum if another user still holds it, which is the common
    // case (users that have seen the same requests tie): only the others are looked for among all,
    // or, if there are many, the minimum is built again in one pass.
    const risen: UserId[] = [];
    for (const id of stale) {
      if (this.stillHeld(id)) continue;
      risen.push(id);
      if (risen.length > REBUILD_AT) {
        this.rebuild(users);
        return;
      }
    }
    for (const id of risen) this.recompute(id);
  }

  /** Whether some user's vector has the minimum's value in component `id` (scan from the last holder). */
  private stillHeld(id: UserId): boolean {
    const m = this.min!.get(id) ?? 0;
    const seen = this.seen;
    const n = seen.length;
    const from = this.holder.get(id) ?? 0;
    for (let k = 0; k < n; k++) {
      const at = from + k < n ? from + k : from + k - n;
      if (seen[at]!.get(id) === m) {
        this.holder.set(id, at);
        return true;
      }
    }
    return false;
  }

  /**
   * Applies one user's change of vector from `before` to `now`: components that go below the
   * minimum set it; components where `before` held the minimum and `now` is above go to `stale`
   * (their minimum is looked for again among all). False if there is no minimum to update.
   */
  private lower(before: StateVector, now: StateVector, stale: Set<UserId>): boolean {
    const min = this.min;
    if (!min) return false;
    before.pairs(now, (id, was, is) => {
      const m = min.get(id) ?? 0;
      if (is < m) this.set(id, is);
      else if (is > was && was === m) stale.add(id);
    });
    return true;
  }

  private recompute(id: UserId): void {
    let m = Infinity;
    for (const v of this.seen) {
      const c = v.get(id);
      if (c < m) m = c;
      if (m === 0) break;
    }
    this.set(id, m);
  }

  private set(id: UserId, count: number): void {
    const min = this.min!;
    if ((min.get(id) ?? 0) === count) return;
    if (count === 0) min.delete(id);
    else min.set(id, count);
    this.minVector = null;
  }

  private rebuild(users: readonly AlgoUser[]): void {
    this.members = users.filter((u) => u.status !== 'unavailable');
    this.seen = this.members.map((u) => u.vector);
    this.holder.clear();
    this.minVector = null;
    if (this.seen.length === 0) {
      this.min = null;
      return;
    }
    const v = this.seen[0]!.minAll(this.seen.slice(1));
    this.min = new Map(v.entries());
    this.minVector = v;
  }
}
