import fs from 'node:fs';
import path from 'node:path';
import type { AttachmentBlobs } from '../domain/attachments.ts';

/** An id as uploads get them (base64url), or a file being written (`.part`). */
const FILE_NAME = /^[A-Za-z0-9_-]{1,64}(?:\.part)?$/;

/**
 * Embedded mode's attachment bytes: one file per upload in DATA_DIR/attachments, named by its id.
 * An upload is written to `{id}.part`, fsynced, then renamed, so that a file under its id is
 * always whole; a `.part` left by a crash is swept as bytes no upload holds.
 */
export class AttachmentFiles implements AttachmentBlobs {
  constructor(private readonly dir: string) {}

  async write(id: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const final = this.file(id);
    const part = `${final}.part`;
    await fs.promises.mkdir(this.dir, { recursive: true });
    const handle = await fs.promises.open(part, 'wx', 0o600);
    try {
      for await (const chunk of source) await handle.write(chunk);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await fs.promises.rm(part, { force: true });
      throw error;
    }
    await handle.close();
    await fs.promises.rename(part, final);
    await syncDir(this.dir);
  }

  async read(id: string): Promise<NodeJS.ReadableStream | undefined> {
    if (!FILE_NAME.test(id) || id.endsWith('.part')) return undefined;
    try {
      const handle = await fs.promises.open(this.file(id), 'r');
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) await fs.promises.rm(this.file(id), { force: true });
    if (ids.length > 0) await syncDir(this.dir);
  }

  async list(): Promise<Array<{ id: string; at: number }>> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const found: Array<{ id: string; at: number }> = [];
    for (const name of names.filter((n) => FILE_NAME.test(n))) {
      const stat = await fs.promises.stat(path.join(this.dir, name)).catch(() => undefined);
      if (stat) found.push({ id: name, at: stat.mtimeMs });
    }
    return found;
  }

  /** The path of an id's file; refuses anything that is not one (no path ever leaves the dir). */
  private file(id: string): string {
    if (!FILE_NAME.test(id)) throw new Error(`not an attachment id: ${JSON.stringify(id)}`);
    return path.join(this.dir, id);
  }
}

/** A rename or unlink is durable once the directory is fsynced. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
