// @ts-check
/**
 * A small typed event emitter, the same in browsers and Node. `Events` maps each event name to
 * the value its listeners get.
 * @template {Record<string, unknown>} Events
 */
export class Emitter {
  /** @type {Map<keyof Events, Set<(value: never) => void>>} */
  #listeners = new Map();

  /**
   * Calls `listener` with every `type` event from now on.
   * @template {keyof Events} K
   * @param {K} type
   * @param {(value: Events[K]) => void} listener
   * @returns {() => void} stops these calls
   */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Calls every listener of `type`, in the order they were added. A listener that throws does
   * not stop the others, nor the emitter: its error is reported as an uncaught one.
   * @protected
   * @template {keyof Events} K
   * @param {K} type
   * @param {Events[K]} value
   */
  emit(type, value) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        /** @type {(value: Events[K]) => void} */ (listener)(value);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
