// @ts-check
/** The chat's refusals in words, by their `error` code; other codes keep the server's words. */

/** @type {Readonly<Record<string, string>>} */
const WORDS = Object.freeze({
  forbidden: 'Not allowed: you may not change this message.',
  edit_window: 'Too late to edit: the time to edit this message has passed.',
  not_found: 'That message no longer exists.',
  bad_emoji: 'That reaction is not a single emoji.',
  too_many_reactions: 'This message has as many reactions as it can take.',
  bad_reply: 'Not sent: the message you replied to no longer exists.',
});

/** @param {string} code @param {string} message the server's words */
export function errorWords(code, message) {
  return WORDS[code] ?? message;
}
