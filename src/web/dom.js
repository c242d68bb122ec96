// @ts-check
/**
 * Small DOM helpers of the page. Every piece of user data (names, room names, message text)
 * goes into the page as text (`textContent`), never as markup.
 */

const AVATAR_HUES = 8;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page`);
  return element;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A stable colour per name, from a small palette of CSS classes. @param {string} name */
function hueClass(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return `hue-${hash % AVATAR_HUES}`;
}

/** @param {string} name */
export function avatar(name) {
  const first = Array.from(name.trim())[0] ?? '?';
  // The initial is drawn by CSS from data-initial, so that it is not part of the log's text.
  const element = h('span', `avatar ${hueClass(name)}`);
  element.dataset.initial = first.toLocaleUpperCase();
  element.setAttribute('aria-hidden', 'true');
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

/** A small padlock, drawn (an emoji may have no font), hidden from assistive technology. */
export function lockIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '12');
  svg.setAttribute('height', '12');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'lock-icon');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z');
  svg.append(path);
  return svg;
}

/** @param {Date} date */
export function formatTime(date) {
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
}

/**
 * Reads and writes the page's remembered settings. Storage may be disabled (private mode,
 * quota): the page then works without remembering.
 */
export const storage = {
  /** @param {string} key */
  get(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  /** @param {string} key @param {string} value */
  set(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch {
      // Not remembered: the page still works.
    }
  },
};
