/**
 * Attachments: files uploaded to a room, then sent in one message. The rules here are pure: the
 * name rules, what the first bytes say the file is, who may read one; where bytes live is the
 * `AttachmentBlobs` port (DATA_DIR/attachments in embedded mode, the NATS Object Store in NATS
 * mode), and the metadata is storage's.
 */
import { imageSize } from 'image-size';

/** What every answer shows of an attachment (upload answer, messages, transcript). */
export interface AttachmentInfo {
  id: string;
  name: string;
  /** One of IMAGE_TYPES, or application/octet-stream. */
  type: string;
  size: number;
  /** Pixels, for the image types only. */
  width?: number;
  height?: number;
}

/** An attachment as a message carries it: with the URL its bytes are served at. */
export interface Attachment extends AttachmentInfo {
  url: string;
}

/** An upload as storage records it; `server_id`: the room it was uploaded to. */
export interface NewUpload extends AttachmentInfo {
  server_id: number;
  uploader: string;
  created_at: string;
}

/** The attachments of one message: 1 to this many. */
export const MAX_ATTACHMENTS = 10;
/** The longest file name, in code points. */
export const MAX_ATTACHMENT_NAME_CHARS = 255;
/** How long an upload no message took is kept (the contract's 1 h; UPLOAD_UNSENT_TTL). */
export const UNSENT_TTL_MS = 3_600_000;
/** How many of the first bytes are looked at to tell an image and its size. */
export const SNIFF_BYTES = 512 * 1024;
export const OCTET_STREAM = 'application/octet-stream';

export function attachmentUrl(id: string): string {
  return `/api/attachments/${id}`;
}

export function withUrl(info: AttachmentInfo): Attachment {
  return { ...info, url: attachmentUrl(info.id) };
}

// a control character, a lone surrogate (not Unicode), or a path separator
const REFUSED_IN_NAMES = /[\p{Cc}\p{Cs}/\\]/u;

/** A file name: 1-255 code points of Unicode, no control character, no `/` or `\`. */
export function isValidAttachmentName(name: string): boolean {
  if (name.length === 0 || name.length > 2 * MAX_ATTACHMENT_NAME_CHARS) return false;
  return !REFUSED_IN_NAMES.test(name) && [...name].length <= MAX_ATTACHMENT_NAME_CHARS;
}

/** The ids of a message's `attachments` as a frame gives them: 1-10, none twice. */
export function isValidAttachmentList(ids: readonly string[]): boolean {
  return ids.length >= 1 && ids.length <= MAX_ATTACHMENTS && new Set(ids).size === ids.length;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);

/** The four image types served inline, by how their bytes begin, and image-size's name. */
const IMAGES: ReadonlyArray<{ type: string; sizeType: string; begins: (b: Buffer) => boolean }> = [
  {
    type: 'image/png',
    sizeType: 'png',
    begins: (b) => b.subarray(0, 8).equals(PNG),
  },
  { type: 'image/jpeg', sizeType: 'jpg', begins: (b) => b.subarray(0, 3).equals(JPEG) },
  {
    type: 'image/gif',
    sizeType: 'gif',
    begins: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')),
  },
  {
    type: 'image/webp',
    sizeType: 'webp',
    begins: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];
export const IMAGE_TYPES: readonly string[] = IMAGES.map((image) => image.type);

/**
 * What the first bytes of a file say it is: one of the four image types, with its width and
 * height in pixels, when they begin as such an image and its header gives its size; anything
 * else (HTML, SVG, a script, a truncated image) is application/octet-stream. Never the name or
 * the Content-Type the uploader sent.
 */
export function sniff(head: Buffer): Pick<AttachmentInfo, 'type' | 'width' | 'height'> {
  const image = IMAGES.find((candidate) => candidate.begins(head));
  if (!image) return { type: OCTET_STREAM };
  try {
    // a copy of its own: image-size reads through the ArrayBuffer, which for a pooled Buffer
    // goes on past `head`'s end
    const size = imageSize(new Uint8Array(head));
    const { width, height } = size;
    if (size.type === image.sizeType && isPixels(width) && isPixels(height)) {
      return { type: image.type, width, height };
    }
  } catch {
    // a header cut short, or not an image after all
  }
  return { type: OCTET_STREAM };
}

function isPixels(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

/**
 * The `Content-Disposition` of an attachment: `inline` for the image types, `attachment` (a
 * download, never rendered) otherwise, with the name percent-encoded (RFC 8187).
 */
export function contentDisposition(info: Pick<AttachmentInfo, 'type' | 'name'>): string {
  const how = IMAGE_TYPES.includes(info.type) ? 'inline' : 'attachment';
  const encoded = encodeURIComponent(info.name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${how}; filename*=UTF-8''${encoded}`;
}

/**
 * Where the bytes of attachments live. Embedded mode: files in DATA_DIR/attachments; NATS mode:
 * the Object Store bucket `chatroom_attachments`, which gateways stream to and from.
 */
export interface AttachmentBlobs {
  /**
   * Streams `source` to storage under `id`. When `source` throws (an upload past its limit),
   * nothing is kept and the error is rethrown.
   */
  write(id: string, source: AsyncIterable<Uint8Array>): Promise<void>;
  /** The bytes of `id`, as a stream; undefined when there are none. */
  read(id: string): Promise<NodeJS.ReadableStream | undefined>;
  /** Removes the bytes of these ids (those that exist). */
  remove(ids: readonly string[]): Promise<void>;
  /** Every stored id and when it was stored (ms), for the sweep of bytes no upload holds. */
  list(): Promise<Array<{ id: string; at: number }>>;
}

/**
 * The state events of attachments (NATS mode: in the stream with the others, applied in stream
 * order): an upload recorded once its bytes are stored, and the unsent uploads the sweep drops.
 */
export type AttachmentEvent =
  | { type: 'attachment_uploaded'; upload: NewUpload }
  /** Removes those of `ids` that no message took meanwhile. */
  | { type: 'attachments_expired'; ids: string[] };

const ATTACHMENT_EVENT_TYPES = new Set(['attachment_uploaded', 'attachments_expired']);

export function isAttachmentEvent(event: { type: string }): event is AttachmentEvent {
  return ATTACHMENT_EVENT_TYPES.has(event.type);
}
