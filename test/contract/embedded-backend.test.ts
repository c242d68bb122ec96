import { EmbeddedBus } from '../../src/bus/embedded-bus.ts';
import { AccountsService } from '../../src/history/accounts-service.ts';
import { EmbeddedHistoryClient } from '../../src/history/embedded-history-client.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { describeBackend } from './backend-contract.ts';

describeBackend('embedded', () => {
  const service = new HistoryService(tempDir());
  const bus = new EmbeddedBus(service, { dedupeWindowMs: 60_000 });
  const accounts = new AccountsService(service.accounts, {
    onChange: (update) => bus.deliverAccessChange(update),
  });
  return Promise.resolve({
    buses: [bus, bus],
    history: new EmbeddedHistoryClient(service),
    accounts: [accounts, accounts],
    async close() {
      accounts.close();
      await bus.close();
      service.close();
    },
  });
});
