/**
 * A minimal typed event emitter: listeners per event name, each called with
 * that event's payload type. A listener that throws is reported on the console and does not stop the
 * others or the code that emitted.
 *
 * @module
 */

/** Event names mapped to payload types (declare it with `type`, not `interface`). */
export type EventMap = Record<string, unknown>;

/** Calls listeners registered by event name. */
export class Emitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /**
   * Registers a listener.
   *
   * @returns A function that removes it.
   */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Calls every listener of `event`. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        // A broken listener must not break the engine that emits.
        console.error(`A listener of "${String(event)}" threw:`, error);
      }
    }
  }
}
