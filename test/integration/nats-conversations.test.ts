/**
 * Conversations, first part, in NATS mode: the suite of conversations-suite.ts on a nats-server
 * of the test's own, one history service and two gateways (processes). Changes are judged by the
 * history service and travel in the stream on the room's subject; clients alternate between the
 * gateways; deleted means gone from every file of the processes and from the stream's store.
 */
import { describe } from 'vitest';
import { conversationSuite } from './conversations-suite.ts';

describe('conversations (NATS mode)', () => {
  conversationSuite('nats');
});
