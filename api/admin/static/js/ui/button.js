// Buttons.
//
//   html`<${Button} label=${t('staff.add')} icon="plus" variant="primary" onClick=${openCreate} />`
//   html`<${IconButton} label=${t('common.close')} icon="close" onClick=${close} />`   (label → aria-label)
//   html`<${LinkButton} href=${url} label=${t('outbox.download')} icon="download" download="x.eml" />`
//
// variant: 'primary' | 'secondary' (default) | 'danger' | 'ghost' | 'danger-ghost'; size: 'sm'.
// busy: true shows a spinner and disables the button (pass a signal's value). Other props
// (data-testid, aria-*, class …) go to the <button>; `testId` sets data-testid.

import { html, cx } from '../lib.js';
import { Icon } from './icons.js';

export function Button({ label, icon, variant = 'secondary', size, onClick, type = 'button', disabled, busy, title, testId, class: extraClass, ...rest }) {
  return html`<button
    type=${type}
    class=${cx('btn', `btn--${variant}`, size && `btn--${size}`, busy && 'is-busy', extraClass)}
    onClick=${onClick}
    disabled=${!!disabled || !!busy}
    aria-busy=${busy ? 'true' : undefined}
    title=${title}
    data-testid=${testId}
    ...${rest}
  >${icon && html`<${Icon} name=${icon} size=${size === 'sm' ? 16 : 18} />`}${label && html`<span class="btn__label">${label}</span>`}</button>`;
}

export function IconButton({ label, icon, onClick, variant = 'ghost', class: extraClass, ...rest }) {
  return html`<button type="button" class=${cx('btn', `btn--${variant}`, 'btn--icon', extraClass)} aria-label=${label} title=${label} onClick=${onClick} ...${rest}>
    <${Icon} name=${icon} />
  </button>`;
}

/** A link that looks like a button (downloads, "open in new tab"). */
export function LinkButton({ href, label, icon, variant = 'secondary', size, download, newTab = false }) {
  return html`<a
    href=${href}
    class=${cx('btn', `btn--${variant}`, size && `btn--${size}`)}
    download=${download === true ? '' : download}
    target=${newTab ? '_blank' : undefined}
    rel=${newTab ? 'noopener noreferrer' : undefined}
  >${icon && html`<${Icon} name=${icon} size=${size === 'sm' ? 16 : 18} />`}<span class="btn__label">${label}</span></a>`;
}
