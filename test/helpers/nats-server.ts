import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { tempDir } from './chat-server.ts';

const BINARY = process.env.NATS_SERVER ?? 'nats-server';

export function natsServerVersion(): string {
  try {
    return execFileSync(BINARY, ['--version'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(
      `nats-server not found (${BINARY}): install it (Debian: apt-get install nats-server) or set NATS_SERVER`,
      { cause: error },
    );
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A nats-server of the test's own, with JetStream in a temp store directory on a free port.
 * `stop` and `start` keep the port and the store, so a test can take it down and bring it back.
 */
export class TestNatsServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(): Promise<TestNatsServer> {
    natsServerVersion();
    const server = new TestNatsServer(await freePort(), tempDir('chatroom-nats-'));
    await server.start();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      BINARY,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!/Server is ready/.test(this.log) || !(await acceptsConnections(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`nats-server not ready in 30 s:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.log = '';
  }
}
