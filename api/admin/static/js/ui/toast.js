// Short messages in the corner.
//
//   toast(t('common.saved'), { type: 'success' })      type: 'info' (default) | 'success' | 'error'
//
// Errors stay 8 s (others 4 s) and can be closed; screen readers hear them through a live region.

import { h } from './dom.js';
import { icon } from './icons.js';
import { t } from '../i18n.js';

let region = null;

function ensureRegion() {
  if (!region || !document.body.contains(region)) {
    region = h('div', { class: 'toasts', 'aria-live': 'polite', 'aria-atomic': 'false' });
    document.body.appendChild(region);
  }
  return region;
}

export function toast(message, { type = 'info', timeout } = {}) {
  const ms = timeout ?? (type === 'error' ? 8000 : 4000);
  const iconName = { success: 'check', error: 'warning', info: 'info' }[type] || 'info';
  const el = h(
    'div',
    // The region is polite; errors interrupt (role=alert).
    { class: ['toast', `toast--${type}`], role: type === 'error' ? 'alert' : null },
    icon(iconName, { className: 'toast__icon' }),
    h('span', { class: 'toast__message' }, message),
    h('button', { type: 'button', class: 'toast__close', 'aria-label': t('common.close'), onclick: () => remove() }, icon('close', { size: 14 })),
  );
  let timer = setTimeout(remove, ms);
  el.addEventListener('mouseenter', () => clearTimeout(timer));
  el.addEventListener('mouseleave', () => {
    timer = setTimeout(remove, 2000);
  });
  function remove() {
    clearTimeout(timer);
    el.classList.add('is-leaving');
    setTimeout(() => el.remove(), 200);
  }
  ensureRegion().appendChild(el);
  return remove;
}
