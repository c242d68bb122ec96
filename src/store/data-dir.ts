import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SchemaTooNewError } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';
import { TranscriptStore } from './transcript.ts';

/**
 * The data directory cannot be used. The message names the path and the reason, in one line
 * (`"/srv/chat" is a file, not a directory`): startup reports it under the setting that named
 * the directory.
 */
export class DataDirError extends Error {
  override name = 'DataDirError';
  constructor(
    readonly path: string,
    readonly reason: string,
    message = `"${path}" ${reason}`,
  ) {
    super(message);
  }
}

/**
 * Opening the data directory: everything that can be wrong with it is one DataDirError naming
 * the path and the reason, instead of a stack trace from deep inside.
 */
export function openDataDir(dataDir: string): { store: SqliteStore; transcripts: TranscriptStore } {
  prepareDirectory(dataDir);
  const store = openStore(path.join(dataDir, 'chatroom.db'));
  const dir = path.join(dataDir, 'message_history');
  try {
    return { store, transcripts: new TranscriptStore(dir) };
  } catch (error) {
    store.close();
    throw new DataDirError(dir, `cannot be created (${reason(error)})`);
  }
}

function prepareDirectory(dir: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    // missing (or unreachable): creating it says which
  }
  if (stat === undefined) {
    try {
      makeDirectories(dir);
    } catch (error) {
      throw new DataDirError(dir, `cannot be created (${reason(error)})`);
    }
  } else if (!stat.isDirectory()) {
    throw new DataDirError(dir, 'is a file, not a directory');
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw new DataDirError(dir, `is not writable (${reason(error)})`);
  }
}

/**
 * `mkdir -p`, one level at a time: Node's `recursive: true` spins forever on some paths where a
 * parent refuses new entries (`/proc/x`), so a bad DATA_DIR would hang startup.
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; !fs.existsSync(current); current = path.dirname(current)) {
    missing.push(current);
    if (path.dirname(current) === current) break;
  }
  for (const level of missing.reverse()) fs.mkdirSync(level);
}

/** The database, checked to be SQLite and writable. */
function openStore(file: string): SqliteStore {
  let store: SqliteStore;
  try {
    store = new SqliteStore(file);
  } catch (error) {
    if (error instanceof SchemaTooNewError) {
      throw new DataDirError(file, error.message, `"${file}": ${error.message}`);
    }
    if (!(error instanceof Database.SqliteError)) throw error;
    if (error.code === 'SQLITE_NOTADB') {
      throw new DataDirError(file, 'is not a SQLite database');
    }
    if (error.code.startsWith('SQLITE_CANTOPEN')) {
      throw new DataDirError(file, `cannot be opened (${error.message})`);
    }
    throw new DataDirError(file, `cannot be used (${error.message})`);
  }
  try {
    store.probeWrite();
  } catch (error) {
    store.close();
    throw new DataDirError(file, `cannot be written (${reason(error)})`);
  }
  return store;
}

/** "ENOTDIR: not a directory" out of Node's "ENOTDIR: not a directory, mkdir '/a/b'". */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(', ')[0] ?? message;
}
