import pino from 'pino';
import { connectNats } from '../../src/nats/connection.ts';
import { NatsAccountsClient } from '../../src/bus/nats/nats-accounts-client.ts';
import { NatsBus } from '../../src/bus/nats/nats-bus.ts';
import { NatsHistoryClient } from '../../src/bus/nats/nats-history-client.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { NatsHistoryService } from '../../src/history/nats-history-service.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { describeBackend } from './backend-contract.ts';

describeBackend('NATS', async () => {
  const log = pino({ level: 'silent' });
  const nats = await TestNatsServer.start();
  const links = await Promise.all(
    ['history', 'gateway-1', 'gateway-2'].map((name) => connectNats(nats.url, name, log)),
  );
  const [historyLink, linkA, linkB] = links as [
    (typeof links)[0],
    (typeof links)[0],
    (typeof links)[0],
  ];
  const store = new HistoryService(tempDir());
  const service = new NatsHistoryService(
    store,
    historyLink,
    { streamMaxAgeMs: 3_600_000, dedupeWindowMs: 60_000, catchUpTimeoutMs: 3000 },
    log,
  );
  await service.start();
  const buses: [NatsBus, NatsBus] = [
    new NatsBus(linkA, { publishTimeoutMs: 3000 }, log),
    new NatsBus(linkB, { publishTimeoutMs: 3000 }, log),
  ];
  await Promise.all(buses.map((bus) => bus.started()));
  return {
    buses,
    history: new NatsHistoryClient(linkA, 3000),
    accounts: [new NatsAccountsClient(linkA, 3000), new NatsAccountsClient(linkB, 3000)],
    async close() {
      for (const bus of buses) await bus.close();
      await service.close();
      for (const link of links) await link.close();
      store.close();
      await nats.stop();
    },
  };
});
