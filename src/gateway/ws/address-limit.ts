/**
 * CONNECTIONS_PER_ADDRESS: how many WebSockets one client address may hold open at once on this
 * gateway. A connection counts from the moment its upgrade is accepted until its TCP connection
 * closes, however it ends (closed by either side, refused after the upgrade, cut).
 */
export class AddressLimit {
  private readonly open = new Map<string, number>();

  /** `max` 0 turns the limit off. */
  constructor(readonly max: number) {}

  /**
   * Counts one more connection of the address; returns the function that uncounts it (to call
   * exactly once, when the connection closes), or undefined when the address is at the limit.
   */
  take(address: string): (() => void) | undefined {
    if (this.max === 0) return () => {};
    const count = this.open.get(address) ?? 0;
    if (count >= this.max) return undefined;
    this.open.set(address, count + 1);
    return () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    };
  }
}
