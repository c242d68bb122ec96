import type { AccessUpdate, StateEvent } from '../domain/access-events.ts';
import type { AccountsStore, ApplyResult } from '../store/accounts-store.ts';

/**
 * Where an accepted change to stored state goes: applied to the store at once (embedded mode:
 * `LocalStateLog`), or published to the stream and resolved once storage applied it in stream
 * order (NATS mode). Resolves with the store's verdict, which may differ from the check made
 * before publishing (two registrations of one name: the first in stream order wins).
 */
export type StateEventLog = (event: StateEvent) => Promise<ApplyResult>;

export interface LocalStateLogOptions {
  /** Each access change once committed, in feed order (embedded mode: to the bus). */
  onChange?: (update: AccessUpdate) => void;
  /** Each event once applied (embedded mode: its reader triggers to the bus). */
  onApplied?: (event: StateEvent) => void;
  /**
   * How often the feed is read for changes another process made (an operator command on the
   * same DATA_DIR); 0: never (the operator command itself).
   */
  feedPollMs?: number;
}

/**
 * Embedded mode's log: applies each event in this process, then hands the access changes it made
 * (and those another process wrote to the same database meanwhile) on, in feed order.
 */
export class LocalStateLog {
  /** The last feed position handed to `onChange`. */
  private position: number;
  private readonly poll: NodeJS.Timeout | undefined;
  private readonly onChange: (update: AccessUpdate) => void;
  private readonly onApplied: (event: StateEvent) => void;

  constructor(
    private readonly store: AccountsStore,
    options: LocalStateLogOptions = {},
  ) {
    this.onChange = options.onChange ?? (() => undefined);
    this.onApplied = options.onApplied ?? (() => undefined);
    this.position = store.feedPosition();
    const pollMs = options.feedPollMs ?? 1000;
    if (pollMs > 0) {
      this.poll = setInterval(() => this.passOnChanges(), pollMs);
      this.poll.unref();
    }
  }

  /** The log itself (a storage fault rejects). */
  readonly apply: StateEventLog = (event) =>
    Promise.resolve().then(() => {
      const result = this.store.apply(event);
      if (result.ok) {
        this.passOnChanges();
        this.onApplied(event);
      }
      return result;
    });

  close(): void {
    clearInterval(this.poll);
  }

  /** Hands every feed entry past the last one on, in order. */
  private passOnChanges(): void {
    let updates: AccessUpdate[];
    try {
      updates = this.store.feedAfter(this.position);
    } catch {
      return; // storage unreadable now: the next change or poll reads on from the same place
    }
    for (const update of updates) {
      this.position = update.seq;
      this.onChange(update);
    }
  }
}
