// Buttons.
//
//   button({ label: t('staff.add'), icon: 'plus', variant: 'primary', onClick: openCreate })
//   iconButton({ label: t('common.close'), icon: 'close', onClick: close })   // label → aria-label
//
// variant: 'primary' | 'secondary' (default) | 'danger' | 'ghost'; size: 'sm' | undefined.

import { h } from './dom.js';
import { icon as drawIcon } from './icons.js';

export function button({ label, icon, variant = 'secondary', size, onClick, type = 'button', disabled, title, attrs = {} }) {
  return h(
    'button',
    {
      type,
      class: ['btn', `btn--${variant}`, size && `btn--${size}`],
      onclick: onClick,
      disabled: !!disabled,
      title,
      ...attrs,
    },
    icon && drawIcon(icon, { size: size === 'sm' ? 16 : 18 }),
    label && h('span', { class: 'btn__label' }, label),
  );
}

export function iconButton({ label, icon, onClick, variant = 'ghost', attrs = {} }) {
  return h(
    'button',
    { type: 'button', class: ['btn', `btn--${variant}`, 'btn--icon'], 'aria-label': label, title: label, onclick: onClick, ...attrs },
    drawIcon(icon),
  );
}

/** Marks a button busy (disabled, spinner) while `promise` runs; returns its result. */
export async function busy(btn, promise) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    return await promise;
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

/** A link that looks like a button (downloads, "open in new tab"). */
export function linkButton({ href, label, icon, variant = 'secondary', size, download, newTab = false }) {
  return h(
    'a',
    {
      href,
      class: ['btn', `btn--${variant}`, size && `btn--${size}`],
      download: download === true ? '' : download,
      target: newTab ? '_blank' : null,
      rel: newTab ? 'noopener noreferrer' : null,
    },
    icon && drawIcon(icon, { size: size === 'sm' ? 16 : 18 }),
    h('span', { class: 'btn__label' }, label),
  );
}
