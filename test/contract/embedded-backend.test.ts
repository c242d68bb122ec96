import { EmbeddedBus } from '../../src/bus/embedded-bus.ts';
import { EmbeddedHistoryClient } from '../../src/history/embedded-history-client.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { describeBackend } from './backend-contract.ts';

describeBackend('embedded', () => {
  const service = new HistoryService(tempDir());
  const bus = new EmbeddedBus(service, { dedupeWindowMs: 60_000 });
  return Promise.resolve({
    buses: [bus, bus],
    history: new EmbeddedHistoryClient(service),
    async close() {
      await bus.close();
      service.close();
    },
  });
});
