// The page's one notice line (#notice): what a write said (Cancel, Run
// again, Start refused with the API server's message, ...). One element,
// moved into the view on screen (only one view shows at a time), so that
// the tests and screen readers find it at the same id everywhere.
import { h, setText } from './dom.js';

export const notice = h('p', { id: 'notice', class: 'notice', role: 'status', hidden: true });

// showNotice(text, kind): kind "info" or "error"; "" hides it.
export function showNotice(text, kind) {
  notice.hidden = !text;
  notice.className = `notice ${kind || ''}`;
  setText(notice, text);
}

// placeNotice(slot): moves the notice into slot (a view's place for it),
// emptied.
export function placeNotice(slot) {
  if (notice.parentNode !== slot) slot.append(notice);
  showNotice('');
}

export const refusal = (what, res) => `${what} refused${res.code ? ` (HTTP ${res.code})` : ''}: ${res.message || 'no reason given'}`;

// The title of a write button in an anonymous (read-only) tab.
export const SIGN_IN_TO_ACT = 'sign in to act';
