import type { FastifyBaseLogger } from 'fastify';
import type { AccountsClient, MessageBus } from '../../bus/types.ts';
import type { AccessUpdate } from '../../domain/access-events.ts';
import type { AccessState } from './access-state.ts';
import type { OpenSockets } from './open-sockets.ts';

const RETRY_MS = 1000;

export interface AccessFeed {
  /** Resolves once the snapshot is loaded (it may take a while in NATS mode: NATS, storage). */
  readonly loaded: Promise<void>;
  isLoaded(): boolean;
  stop(): void;
}

/**
 * Keeps the AccessState: subscribes to access changes first (buffering them), asks the bus how
 * far its feed has come, asks storage for a snapshot that reflects at least that position, then
 * applies what arrived meanwhile past the snapshot's own position. So no change is missed (the
 * feed delivers everything after its position, the snapshot holds everything up to it) or applied
 * twice (the state skips what its position already holds). Each change that is new closes the
 * WebSockets it ends. In background, retried until it works: a NATS-mode gateway starts before
 * NATS and the history service answer. When the feed reports a gap, the state is loaded anew.
 */
export function followAccessChanges(
  bus: MessageBus,
  accounts: AccountsClient,
  access: AccessState,
  sockets: OpenSockets,
  log: FastifyBaseLogger,
): AccessFeed {
  let early: AccessUpdate[] | undefined = [];
  let stopped = false;
  let loading: Promise<void> | undefined;
  let reloadWanted = false;
  const apply = (update: AccessUpdate) => {
    const change = access.apply(update);
    if (change) sockets.recheck(change);
  };
  const subscription = bus.onAccessChange((update) => (early ? early.push(update) : apply(update)));
  const load = async (): Promise<void> => {
    while (!stopped) {
      try {
        const after = await bus.accessFeedPosition();
        const snapshot = await accounts.accessSnapshot(after);
        if (stopped) return;
        access.load(snapshot);
        break;
      } catch (error) {
        if (stopped) return;
        log.warn({ err: error }, 'cannot load the access state from storage yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    }
    const waiting = early ?? [];
    early = undefined;
    for (const update of waiting) apply(update);
    sockets.recheck();
  };
  const run = (): Promise<void> =>
    (loading = load().finally(() => {
      loading = undefined;
      if (reloadWanted && !stopped) {
        reloadWanted = false;
        early = [];
        void run();
      }
    }));
  const loaded = run();
  // The feed lost its place (the stream no longer holds what follows it): changes may have been
  // missed, so the state is loaded anew, buffering the feed meanwhile as at the start.
  const gaps = bus.onGap(() => {
    if (loading) {
      reloadWanted = true;
      return;
    }
    log.warn('the access feed lost its place: loading the access state anew');
    early = [];
    void run();
  });
  return {
    loaded,
    isLoaded: () => early === undefined,
    stop() {
      stopped = true;
      subscription.unsubscribe();
      gaps.unsubscribe();
    },
  };
}
