// @ts-check
/**
 * Search (contract, "The page, added"): a `search` landmark with the field "Search" (Enter
 * searches), the results as a list "Search results" (room, author, time, the text with its
 * matched words `mark`ed), then "More results" while there are more. Activating a result opens
 * its room at that message (jump.js). Everything the server sent is put in as text.
 */
import { byId, formatTime, h } from './dom.js';
import * as searchApi from './search-api.js';

/** @typedef {import('../domain/history.ts').SearchHit} SearchHit */

/** Longer texts are shown as an excerpt around their first match, in code points. */
const EXCERPT_CHARS = 240;
const EXCERPT_BEFORE = 60;

/**
 * @typedef {object} SearchDeps
 * @property {(room: SearchHit['room']) => string} roomLabel how the page names a room
 * @property {(roomId: number, messageId: number) => void} open shows the room at that message
 */

/**
 * The text as nodes, the [start, end) code-point spans in `mark`; long texts cut to an excerpt
 * around the first span, with "…" where cut.
 * @param {string} text
 * @param {Array<[number, number]>} spans
 */
export function markedText(text, spans) {
  const chars = Array.from(text);
  let from = 0;
  let to = chars.length;
  if (chars.length > EXCERPT_CHARS) {
    from = Math.max(0, Math.min((spans[0]?.[0] ?? 0) - EXCERPT_BEFORE, to - EXCERPT_CHARS));
    to = from + EXCERPT_CHARS;
  }
  /** @type {Array<Node>} */
  const nodes = [];
  const plain = (/** @type {number} */ start, /** @type {number} */ end) => {
    if (end > start) nodes.push(document.createTextNode(chars.slice(start, end).join('')));
  };
  if (from > 0) nodes.push(document.createTextNode('…'));
  let at = from;
  for (const [start, end] of spans) {
    if (end <= at || start >= to) continue;
    plain(at, Math.max(at, start));
    nodes.push(h('mark', '', chars.slice(Math.max(at, start), Math.min(end, to)).join('')));
    at = Math.min(end, to);
  }
  plain(at, to);
  if (to < chars.length) nodes.push(document.createTextNode('…'));
  return nodes;
}

/** @param {SearchDeps} deps */
export function createSearch(deps) {
  const form = byId('search-form', window.HTMLFormElement);
  const field = byId('search', window.HTMLInputElement);
  const list = byId('search-results', window.HTMLUListElement);
  const more = byId('search-more', window.HTMLButtonElement);
  const said = byId('search-status', window.HTMLParagraphElement);
  let query = '';
  /** The id of the last result shown: the next page comes from below it. */
  let last = 0;
  /** Bumped by each new search: an older answer that comes late is dropped. */
  let asked = 0;

  /** @param {SearchHit} hit */
  function result(hit) {
    const { message } = hit;
    const button = h('button', 'search-hit');
    button.type = 'button';
    const time = h('time', 'search-hit-time', formatTime(new Date(message.ts)));
    time.dateTime = message.ts;
    const meta = h('span', 'search-hit-meta');
    meta.append(
      h('span', 'search-hit-room', deps.roomLabel(hit.room)),
      document.createTextNode(' '),
      h('span', 'search-hit-author', message.username),
      document.createTextNode(' '),
      time,
    );
    const text = h('span', 'search-hit-text');
    text.append(...markedText(message.text, hit.matches));
    button.append(meta, text);
    button.addEventListener('click', () => deps.open(hit.room.id, message.id));
    const item = h('li');
    item.append(button);
    return item;
  }

  /** Asks for the first page of `query`, or (`next`) the page after the last shown. */
  async function run(next = false) {
    const ticket = ++asked;
    more.disabled = true;
    if (!next) said.textContent = 'Searching…';
    const answer = await searchApi.search(query, next ? last : undefined);
    if (ticket !== asked) return;
    more.disabled = false;
    if ('error' in answer) {
      said.textContent = answer.error;
      return;
    }
    const { results, more: hasMore } = answer.page;
    if (!next) list.replaceChildren();
    list.append(...results.map(result));
    last = results.at(-1)?.message.id ?? last;
    more.hidden = !hasMore;
    list.hidden = list.childElementCount === 0;
    const count = list.childElementCount;
    said.textContent = count === 0 ? 'No messages found.' : `${count}${hasMore ? '+' : ''} found.`;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    query = field.value.trim();
    if (query === '') {
      asked++;
      list.replaceChildren();
      list.hidden = true;
      more.hidden = true;
      said.textContent = '';
      return;
    }
    void run();
  });
  more.addEventListener('click', () => void run(true));
}
