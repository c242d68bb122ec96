import fs from 'node:fs';
import path from 'node:path';
import type { Message } from '../../src/domain/message.ts';

/** A room's whole history through REST, paged with `after=`. */
export async function allMessages(baseUrl: string, room: number): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const after = all.length ? all[all.length - 1]!.id : 0;
    const response = await fetch(
      `${baseUrl}/api/servers/${room}/messages?after=${after}&limit=1000`,
    );
    if (!response.ok)
      throw new Error(`history answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as Message[];
    if (page.length === 0) return all;
    all.push(...page);
  }
}

/** A room's JSONL transcript, parsed; [] when it does not exist yet. Every line must be whole. */
export function readTranscript(dataDir: string, room: number): Message[] {
  const file = path.join(dataDir, 'message_history', `server_${room}_history.jsonl`);
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error(`${file} ends in a torn line`);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Message);
}

/** Creates a room through REST and returns its id; fails unless the answer is 201. */
export async function createRoom(baseUrl: string, name: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/servers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 201) {
    throw new Error(
      `creating room "${name}" answered ${response.status}: ${await response.text()}`,
    );
  }
  return ((await response.json()) as { id: number }).id;
}

/**
 * Messages as their transcript lines show them: as REST does, less what never reaches the
 * transcript (`seq`, `quote`, `mentions`, `mention_room`, `reactions`).
 */
export function asTranscript(messages: readonly Message[]): Array<Record<string, unknown>> {
  return messages.map((message) => {
    const line: Record<string, unknown> = { ...message };
    for (const field of ['seq', 'quote', 'mentions', 'mention_room', 'reactions'])
      delete line[field];
    return line;
  });
}

/** Every file under a directory, at any depth ([] when it does not exist): what a scan reads. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    return fs.statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}
