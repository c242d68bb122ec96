/**
 * The rules of attachments (contract, "Attachments"): what the first bytes say a file is, the name
 * rules, the list a message may carry, the Content-Disposition of a download, and the frame field.
 */
import { describe, expect, it } from 'vitest';
import {
  contentDisposition,
  isValidAttachmentList,
  isValidAttachmentName,
  sniff,
} from '../../src/domain/attachments.ts';
import { readAccessEvent } from '../../src/nats/access-event.ts';
import { parseHistoryAnswer, parseHistoryRequest } from '../../src/nats/history-ops.ts';
import { readRoomEntry } from '../../src/nats/stream-message.ts';
import { parseClientFrame } from '../../src/protocol.ts';
import { tinyGif, tinyPng } from '../helpers/attachments.ts';

/** A baseline JPEG's start: SOI, a JFIF APP0, then the SOF0 frame header (9 × 7 pixels). */
function tinyJpeg(): Buffer {
  const app0 = [0xff, 0xe0, 0, 16, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof0 = [0xff, 0xc0, 0, 17, 8, 0, 7, 0, 9, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
}

/** An extended WebP's header (VP8X): 10 × 6 pixels. */
function tinyWebp(): Buffer {
  const webp = Buffer.alloc(30);
  webp.write('RIFF', 0, 'latin1');
  webp.writeUInt32LE(22, 4);
  webp.write('WEBPVP8X', 8, 'latin1');
  webp.writeUInt32LE(10, 16);
  webp.writeUIntLE(10 - 1, 24, 3);
  webp.writeUIntLE(6 - 1, 27, 3);
  return webp;
}

describe('the type of an upload, from its first bytes', () => {
  it('tells the four image types and their pixels from their headers', () => {
    expect(sniff(tinyPng(3, 2))).toEqual({ type: 'image/png', width: 3, height: 2 });
    expect(sniff(tinyGif(5, 4))).toEqual({ type: 'image/gif', width: 5, height: 4 });
    expect(sniff(tinyJpeg())).toEqual({ type: 'image/jpeg', width: 9, height: 7 });
    expect(sniff(tinyWebp())).toEqual({ type: 'image/webp', width: 10, height: 6 });
  });

  it('takes everything else as application/octet-stream, whatever it is', () => {
    const octets = { type: 'application/octet-stream' };
    expect(sniff(Buffer.from('<!doctype html><script>alert(1)</script>'))).toEqual(octets);
    expect(sniff(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'))).toEqual(
      octets,
    );
    expect(sniff(Buffer.alloc(0))).toEqual(octets);
    // begins as a PNG, but its header is cut before the size
    expect(sniff(tinyPng(3, 2).subarray(0, 20))).toEqual(octets);
  });
});

describe('the name of an upload', () => {
  it('has 1-255 code points, no control character, no / or \\', () => {
    expect(isValidAttachmentName('plan.png')).toBe(true);
    expect(isValidAttachmentName('é'.repeat(255))).toBe(true);
    expect(isValidAttachmentName('😀'.repeat(255))).toBe(true);
    for (const name of ['', 'a'.repeat(256), '😀'.repeat(256), 'a/b', 'a\\b', 'a\u0007b', 'a\nb']) {
      expect(isValidAttachmentName(name), JSON.stringify(name)).toBe(false);
    }
    expect(isValidAttachmentName('a\ud800b')).toBe(false);
  });
});

describe('the attachments of a message', () => {
  it('are 1-10 ids, none twice', () => {
    expect(isValidAttachmentList(['a'])).toBe(true);
    expect(isValidAttachmentList(Array.from({ length: 10 }, (_, i) => `a${i}`))).toBe(true);
    expect(isValidAttachmentList([])).toBe(false);
    expect(isValidAttachmentList(Array.from({ length: 11 }, (_, i) => `a${i}`))).toBe(false);
    expect(isValidAttachmentList(['a', 'a'])).toBe(false);
  });

  it('come as an array of strings in a message frame, else bad_request', () => {
    expect(parseClientFrame('{"type":"message","text":"","attachments":["x"]}')).toEqual({
      ok: true,
      frame: { type: 'message', text: '', attachments: ['x'] },
    });
    for (const attachments of ['"x"', '[1]', '{}']) {
      const parsed = parseClientFrame(`{"type":"message","text":"","attachments":${attachments}}`);
      expect(parsed.ok, attachments).toBe(false);
    }
  });
});

describe('Content-Disposition', () => {
  it('shows the four image types inline and downloads everything else, the name encoded', () => {
    expect(contentDisposition({ type: 'image/png', name: 'plan.png' })).toBe(
      "inline; filename*=UTF-8''plan.png",
    );
    expect(contentDisposition({ type: 'application/octet-stream', name: "café (1)'s.svg" })).toBe(
      "attachment; filename*=UTF-8''caf%C3%A9%20%281%29%27s.svg",
    );
  });
});

describe('attachments over NATS', () => {
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const info = { id: 'Yk3Qp1v0mS2cE8fJt4LwRg', name: 'p.png', type: 'image/png', size: 9 };
  const upload = {
    ...info,
    width: 2,
    height: 1,
    server_id: 1,
    uploader: 'ann',
    created_at: '2026-01-01T00:00:00.000Z',
  };

  it('passes the stream message, requests, answers and events that carry them', () => {
    const payload = { server_id: 1, username: 'ann', text: '', ts: 'x', attachments: [info] };
    expect(readRoomEntry({ data: bytes(payload), subject: 'chat.1', seq: 5 })).toEqual({
      ok: true,
      value: { kind: 'message', payload },
    });
    const draft = { serverId: 1, username: 'ann', text: '', attachments: [info.id] };
    expect(parseHistoryRequest('reply', bytes(draft))).toEqual({ ok: true, value: draft });
    const record = { upload, viewer: null };
    expect(parseHistoryRequest('record_upload', bytes(record))).toEqual({
      ok: true,
      value: record,
    });
    const ask = { id: info.id, viewer: { username: 'ann', admin: false }, username: 'ann' };
    expect(parseHistoryRequest('attachment', bytes(ask)).ok).toBe(true);
    expect(parseHistoryAnswer('attachment', bytes({ ok: true, result: null })).ok).toBe(true);
    for (const event of [
      { type: 'attachment_uploaded', upload },
      { type: 'attachments_expired', ids: [info.id] },
    ]) {
      expect(readAccessEvent({ data: bytes(event), seq: 3 })).toEqual({ ok: true, value: event });
    }
  });

  it('refuses them with a field of the wrong type', () => {
    const payload = { server_id: 1, username: 'ann', text: '', ts: 'x' };
    for (const attachments of [[{ ...info, size: '9' }], [info.id], info]) {
      const data = bytes({ ...payload, attachments });
      expect(readRoomEntry({ data, subject: 'chat.1', seq: 5 }).ok).toBe(false);
    }
    const draft = { serverId: 1, username: 'ann', text: '', attachments: [1] };
    expect(parseHistoryRequest('reply', bytes(draft)).ok).toBe(false);
    const record = { upload: { ...upload, uploader: null }, viewer: null };
    expect(parseHistoryRequest('record_upload', bytes(record)).ok).toBe(false);
    expect(
      parseHistoryRequest('attachment', bytes({ id: 1, viewer: null, username: null })).ok,
    ).toBe(false);
    for (const event of [
      { type: 'attachment_uploaded', upload: { ...upload, width: 'wide' } },
      { type: 'attachments_expired', ids: 'all' },
    ]) {
      expect(readAccessEvent({ data: bytes(event), seq: 3 }).ok).toBe(false);
    }
  });
});
