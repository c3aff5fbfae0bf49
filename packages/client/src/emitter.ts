// A small typed event emitter, so that the client loads in a browser (node:events does not exist
// there). It keeps the parts of Node's EventEmitter that the client, its users and
// `events.once`/`events.on` rely on: listeners run synchronously in the order they were added,
// with the emitter as `this`; emit() works on a copy of the list, so a listener added or removed
// during an emit does not change that emit; `once` listeners are removed before they run, run at
// most once even when the event is emitted again from a listener, and can be removed early by
// passing the original function to off(); off() removes the most recently added registration of
// a function. Unlike Node it warns about nothing (no listener limit) and
// has no special 'error' event (none of the client's event maps has one).

/** Event name -> the arguments its listeners receive. */
export type EventMap<T> = { [K in keyof T]: unknown[] };

type Listener<Args extends unknown[]> = (...args: Args) => void;

interface Registration {
  /** The function as given (compared by identity, called with the event's arguments). */
  readonly listener: unknown;
  readonly once: boolean;
  /** A `once` registration that ran (a nested emit of the same event must not run it again). */
  fired: boolean;
}

export class Emitter<Events extends EventMap<Events>> {
  readonly #listeners = new Map<keyof Events, Registration[]>();

  /** Adds `listener` for `event` (at the end: it runs after the ones already there). */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, false);
  }

  /** The same as on(), for callers written against Node's EventEmitter. */
  addListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, false);
  }

  /** Adds `listener` for the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, true);
  }

  /** Removes the most recent registration of `listener` for `event`, if any. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.listener === listener) {
        this.#remove(event, list, i);
        break;
      }
    }
    return this;
  }

  /** The same as off(); `events.once` and `events.on` clean up through it. */
  removeListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /** Calls every listener of `event` with `args`; whether there was any. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const reg of [...list]) {
      if (reg.once) {
        if (reg.fired) continue;
        reg.fired = true;
        const at = list.indexOf(reg);
        if (at >= 0) this.#remove(event, list, at);
      }
      (reg.listener as (...a: unknown[]) => void).apply(this, args);
    }
    return true;
  }

  /** How many listeners `event` has (only registrations of `listener`, if given). */
  listenerCount<K extends keyof Events>(event: K, listener?: Listener<Events[K]>): number {
    const list = this.#listeners.get(event) ?? [];
    return listener === undefined ? list.length : list.filter((r) => r.listener === listener).length;
  }

  /** The listeners of `event`, in the order they run (`once` listeners as given). */
  listeners<K extends keyof Events>(event: K): Listener<Events[K]>[] {
    return (this.#listeners.get(event) ?? []).map((r) => r.listener as unknown as Listener<Events[K]>);
  }

  /** The events that have listeners. */
  eventNames(): (keyof Events)[] {
    return [...this.#listeners.keys()];
  }

  #add<K extends keyof Events>(event: K, listener: Listener<Events[K]>, once: boolean): this {
    if (typeof listener !== 'function') throw new TypeError(`the listener of "${String(event)}" must be a function`);
    const list = this.#listeners.get(event);
    const reg: Registration = { listener, once, fired: false };
    if (list) list.push(reg);
    else this.#listeners.set(event, [reg]);
    return this;
  }

  #remove(event: keyof Events, list: Registration[], at: number): void {
    list.splice(at, 1);
    if (list.length === 0) this.#listeners.delete(event);
  }
}
