/**
 * One way to run the chat for a suite that runs in both modes: embedded (one process, in this
 * one) or NATS (a nats-server of the test's own, a history service and two gateways, each a
 * process). Clients of a NATS deployment are spread over both gateways.
 */
import { eventually } from './eventually.ts';
import { spawnChat, startTestChat, tempDir } from './chat-server.ts';
import type { ChatProcess } from './chat-server.ts';
import { TestNatsServer } from './nats-server.ts';

export type Mode = 'embedded' | 'nats';

export interface Deployment {
  mode: Mode;
  /** Every gateway's base URL: one in embedded mode, two in NATS mode. */
  urls: string[];
  /** The DATA_DIR that holds the SQLite database and the transcripts. */
  historyDir: string;
  /** Every directory the deployment writes: DATA_DIRs, the nats-server's store. */
  dirs: string[];
  /** NATS mode: the gateways' DATA_DIRs (they must keep nothing there). */
  gatewayDirs: string[];
  /** NATS mode: the nats-server's URL. */
  natsUrl?: string;
  close(): Promise<void>;
}

/** Starts a deployment; `env` is added to every process's environment. */
export async function startDeployment(
  mode: Mode,
  env: Record<string, string>,
): Promise<Deployment> {
  if (mode === 'embedded') {
    const chat = await startTestChat(env);
    return {
      mode,
      urls: [chat.url],
      historyDir: chat.dataDir,
      dirs: [chat.dataDir],
      gatewayDirs: [],
      close: () => chat.close(),
    };
  }
  const nats = await TestNatsServer.start();
  const processes: ChatProcess[] = [];
  const dirs = [tempDir(), tempDir(), tempDir()];
  const envOf = (dataDir: string) => ({
    NATS_URL: nats.url,
    DATA_DIR: dataDir,
    NATS_REQUEST_TIMEOUT: '5s',
    ...env,
  });
  const close = async () => {
    for (const process of processes) await process.stop('SIGKILL');
    await nats.stop();
  };
  try {
    processes.push(await spawnChat(envOf(dirs[0]!), ['history']));
    processes.push(
      ...(await Promise.all(dirs.slice(1).map((dir) => spawnChat(envOf(dir), ['gateway'])))),
    );
    const gateways = processes.slice(1);
    await eventually(
      () => Promise.all(gateways.map(async (g) => (await fetch(`${g.url}/readyz`)).status)),
      (statuses) => statuses.every((status) => status === 200),
    );
    return {
      mode,
      urls: gateways.map((g) => g.url),
      historyDir: dirs[0]!,
      dirs: [...dirs, nats.storeDir],
      gatewayDirs: dirs.slice(1),
      natsUrl: nats.url,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
