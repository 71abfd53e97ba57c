// Short messages in the corner.
//
//   toast(t('common.saved'), { type: 'success' })      type: 'info' (default) | 'success' | 'error'
//
// Errors stay 8 s (others 4 s), at most three show at once, and they can be closed; screen readers hear them through a live region.
// The list is a signal rendered in its own root at the end of <body>, so a toast outlives the
// screen or dialog that showed it. toast() returns a function that removes it.

import { html, signal, mountRoot, cx, useEffect, useRef } from '../lib.js';
import { Icon } from './icons.js';
import { t } from '../i18n.js';

const toasts = signal([]);
let root = null;
let counter = 0;

const ICONS = { success: 'check', error: 'warning', info: 'info' };
// At most this many at once: a quick run of saves must not pile a column of toasts over the
// form (the oldest goes first; errors stay over successes).
const MAX_SHOWN = 3;

function remove(id) {
  toasts.value = toasts.value.map((x) => (x.id === id ? { ...x, leaving: true } : x));
  setTimeout(() => {
    toasts.value = toasts.value.filter((x) => x.id !== id);
  }, 200);
}

function Toast({ item }) {
  const timer = useRef(null);
  const start = (ms) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => remove(item.id), ms);
  };
  useEffect(() => {
    start(item.timeout);
    return () => clearTimeout(timer.current);
  }, []);
  return html`<div
    class=${cx('toast', `toast--${item.type}`, item.leaving && 'is-leaving')}
    role=${item.type === 'error' ? 'alert' : undefined}
    onMouseEnter=${() => clearTimeout(timer.current)}
    onMouseLeave=${() => start(2000)}
  >
    <${Icon} name=${ICONS[item.type] || 'info'} className="toast__icon" />
    <span class="toast__message">${item.message}</span>
    <button type="button" class="toast__close" aria-label=${t('common.close')} onClick=${() => remove(item.id)}><${Icon} name="close" size=${14} /></button>
  </div>`;
}

function Toasts() {
  // The region is polite; errors interrupt (role=alert).
  return html`<div class="toasts" aria-live="polite" aria-atomic="false">
    ${toasts.value.map((item) => html`<${Toast} key=${item.id} item=${item} />`)}
  </div>`;
}

export function toast(message, { type = 'info', timeout } = {}) {
  if (!root || !document.body.contains(root.el)) root = mountRoot(html`<${Toasts} />`);
  counter += 1;
  const id = counter;
  toasts.value = [...toasts.value, { id, message, type, timeout: timeout ?? (type === 'error' ? 8000 : 4000) }];
  const shown = toasts.value.filter((x) => !x.leaving);
  if (shown.length > MAX_SHOWN) {
    const old = shown.slice(0, -1).sort((a, b) => (a.type === 'error') - (b.type === 'error'));
    old.slice(0, shown.length - MAX_SHOWN).forEach((x) => remove(x.id));
  }
  return () => remove(id);
}
