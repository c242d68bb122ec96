import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Objm, StorageType } from '@nats-io/obj';
import type { ObjectStore } from '@nats-io/obj';
import type { AttachmentBlobs } from '../domain/attachments.ts';
import type { NatsLink } from './connection.ts';

/** The Object Store bucket that holds the bytes of attachments in NATS mode. */
export const ATTACHMENTS_BUCKET = 'chatroom_attachments';

/**
 * NATS mode's attachment bytes: one object per upload, named by its id, in the Object Store
 * bucket `chatroom_attachments` (file storage; made by whoever needs it first). Gateways stream
 * an upload into it chunk by chunk (128 KiB messages) and stream it out again, keeping no copy;
 * the history service removes the objects of deleted messages and of expired uploads. An object's
 * metadata holds its id only: file names are in the history service's database.
 */
export class AttachmentObjects implements AttachmentBlobs {
  private bucket: Promise<ObjectStore> | undefined;

  constructor(private readonly link: NatsLink) {}

  async write(id: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const store = await this.store();
    // a source that throws (too large) makes put remove the chunks it stored and reject
    await store.put({ name: id }, pulled(source));
  }

  async read(id: string): Promise<NodeJS.ReadableStream | undefined> {
    const object = await (await this.store()).get(id);
    if (!object) return undefined;
    return Readable.fromWeb(object.data as WebReadableStream<Uint8Array>);
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const store = await this.store();
    for (const id of ids) await store.delete(id);
  }

  async list(): Promise<Array<{ id: string; at: number }>> {
    const objects = await (await this.store()).list();
    return objects
      .filter((object) => !object.deleted)
      .map((object) => ({ id: object.name, at: Date.parse(object.mtime) }));
  }

  /** The bucket, made when missing; asked again after a failure (NATS was down). */
  private store(): Promise<ObjectStore> {
    this.bucket ??= this.link.connected.then(() =>
      new Objm(this.link.js).create(ATTACHMENTS_BUCKET, { storage: StorageType.File }),
    );
    this.bucket.catch(() => (this.bucket = undefined));
    return this.bucket;
  }
}

/** A web stream that reads `source` only as fast as it is read (put awaits each chunk's ack). */
function pulled(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
