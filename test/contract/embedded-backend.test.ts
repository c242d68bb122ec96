import { EmbeddedBus } from '../../src/bus/embedded-bus.ts';
import { readerTriggersOf } from '../../src/domain/access-events.ts';
import { AccountsService } from '../../src/history/accounts-service.ts';
import { AttachmentsService } from '../../src/history/attachments-service.ts';
import { EmbeddedHistoryClient } from '../../src/history/embedded-history-client.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { ReadersService } from '../../src/history/readers-service.ts';
import { RoomsService } from '../../src/history/rooms-service.ts';
import { LocalStateLog } from '../../src/history/state-log.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { describeBackend } from './backend-contract.ts';

describeBackend('embedded', () => {
  const service = new HistoryService(tempDir());
  const bus = new EmbeddedBus(service, { dedupeWindowMs: 60_000 });
  const log = new LocalStateLog(service.accounts, {
    onChange: (update) => bus.deliverAccessChange(update),
    onApplied: (event) => bus.deliverReaderTriggers(readerTriggersOf(event)),
  });
  const accounts = new AccountsService(service.accounts, { log: log.apply });
  const rooms = new RoomsService(service.rooms, log.apply);
  const attachments = new AttachmentsService(
    service.attachments,
    service.rooms,
    log.apply,
    service.blobs,
    { unsentTtlMs: 3_600_000 },
  );
  return Promise.resolve({
    buses: [bus, bus],
    history: new EmbeddedHistoryClient(
      service,
      rooms,
      attachments,
      ReadersService.over(service, log.apply),
    ),
    accounts: [accounts, accounts],
    async close() {
      log.close();
      await bus.close();
      service.close();
    },
  });
});
