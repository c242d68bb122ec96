import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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

export interface TestNatsOptions {
  /**
   * The server's `max_payload` in bytes (nats-server's default: 1 MiB). A small one lets a test
   * pass it with few messages, rooms or users; the product reads it from the server.
   */
  maxPayload?: number;
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
    private readonly options: TestNatsOptions,
  ) {}

  static async start(options: TestNatsOptions = {}): Promise<TestNatsServer> {
    natsServerVersion();
    const server = new TestNatsServer(await freePort(), tempDir('chatroom-nats-'), options);
    await server.start();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    if (this.options.maxPayload !== undefined) {
      // max_payload has no command-line flag: it goes in a config file beside the store
      const file = path.join(path.dirname(this.storeDir), `${path.basename(this.storeDir)}.conf`);
      fs.writeFileSync(file, `max_payload: ${this.options.maxPayload}\n`);
      args.push('-c', file);
    }
    const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
