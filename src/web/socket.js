// @ts-check
/**
 * One WebSocket of a chat connection, watched: its frames parsed, a `ping` frame sent every
 * `pingMs`, and the socket given up when one goes unanswered for a whole interval (a dead network
 * is not always noticed by the socket itself). No DOM: the browser's WebSocket or the `ws`
 * package's.
 */
import { parseServerFrame } from './protocol.js';

/** @typedef {import('./protocol.js').ServerFrame} ServerFrame */
/** @typedef {import('./protocol.js').ClientFrame} ClientFrame */
/**
 * What is needed of a WebSocket: the browser's and the `ws` package's both fit.
 * @typedef {object} SocketLike
 * @property {number} readyState
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {{
 *   (type: 'message', listener: (event: { data: unknown }) => void): void;
 *   (type: 'close', listener: (event: { code: number, reason: string }) => void): void;
 *   (type: 'open' | 'error', listener: () => void): void;
 * }} addEventListener
 */
/** @typedef {new (url: string) => SocketLike} SocketConstructor */
/**
 * @typedef {object} WatchedSocket
 * @property {(frame: ClientFrame) => boolean} send writes a frame, when the socket is open
 * @property {() => void} close closes the socket; none of its handlers is called after this
 */
/**
 * @typedef {object} SocketHandlers
 * @property {number} pingMs
 * @property {(frame: ServerFrame) => void} onFrame every frame but `pong`
 * @property {(close: { code: number, reason: string } | null) => void} onGone the socket closed
 *   (null: it stopped answering pings); called once at most
 */

/** readyState OPEN, the same in browsers and `ws`. */
const OPEN = 1;
/** Our own close, when we leave or replace a socket. */
const NORMAL_CLOSURE = 1000;

/**
 * @param {SocketConstructor} WebSocket
 * @param {string} url
 * @param {SocketHandlers} handlers
 * @returns {WatchedSocket}
 */
export function openSocket(WebSocket, url, { pingMs, onFrame, onGone }) {
  const socket = new WebSocket(url);
  let done = false;
  let awaitingPong = false;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let pinger;

  /** @param {ClientFrame} frame */
  const send = (frame) => {
    if (done || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  };
  const close = () => {
    if (done) return;
    done = true;
    clearInterval(pinger);
    if (socket.readyState <= OPEN) socket.close(NORMAL_CLOSURE, 'bye');
  };
  /** @param {{ code: number, reason: string } | null} reason */
  const gone = (reason) => {
    if (done) return;
    close();
    onGone(reason);
  };

  socket.addEventListener('message', (event) => {
    if (done) return;
    const frame = parseServerFrame(event.data);
    if (!frame) return;
    if (frame.type === 'pong') awaitingPong = false;
    else onFrame(frame);
  });
  socket.addEventListener('open', () => {
    if (done) return;
    pinger = setInterval(() => {
      // No answer for a whole interval: the connection is dead even if the socket thinks not.
      if (awaitingPong) return gone(null);
      awaitingPong = true;
      send({ type: 'ping' });
    }, pingMs);
  });
  socket.addEventListener('close', (event) => gone({ code: event.code, reason: event.reason }));
  // A failed socket also closes, which is handled above; `ws` needs a listener to not throw.
  socket.addEventListener('error', () => {});
  return { send, close };
}
