// The frame of a screen: title, actions, toolbar, banner and body.
//
//   return html`<${Page} title=${t('nav.staff')} subtitle=${t('staff.subtitle')} fill
//       actions=${[canWrite && html`<${Button} … />`]} toolbar=${html`<${Toolbar}>…<//>`}>
//     <${DataTable} … />
//   <//>`;
//
// fill: list screens; the table fills the height and scrolls under a sticky header.
// back: { href, label } shows a link above the title. EmptyState and Notice are the standard
// "nothing here" block and callout.

import { html, cx } from '../lib.js';
import { Icon } from './icons.js';

export function Page({ title, subtitle, back, actions = [], toolbar, fill = false, children }) {
  const shown = (Array.isArray(actions) ? actions : [actions]).filter(Boolean);
  return html`<section class=${cx('page', fill && 'page--fill')} aria-labelledby="page-title">
    <header class="page__header">
      <div class="page__heading">
        ${back && html`<a class="page__back" href=${back.href}><${Icon} name="back" size=${16} /><span>${back.label}</span></a>`}
        <h1 class="page__title" id="page-title" tabindex="-1">${title}</h1>
        ${subtitle && html`<p class="page__subtitle">${subtitle}</p>`}
      </div>
      ${shown.length > 0 && html`<div class="page__actions">${shown}</div>`}
    </header>
    ${toolbar}
    <div class="page__body">${children}</div>
  </section>`;
}

export function EmptyState({ icon, title, message, action }) {
  return html`<div class="empty">
    ${icon && html`<div class="empty__icon"><${Icon} name=${icon} size=${28} /></div>`}
    ${title && html`<p class="empty__title">${title}</p>`}
    ${message && html`<p class="empty__message">${message}</p>`}
    ${action}
  </div>`;
}

const NOTICE_ICONS = { info: 'info', warning: 'warning', danger: 'warning', success: 'check' };

/** A callout. tone: 'info' | 'warning' | 'danger' | 'success'; children go under the message. */
export function Notice({ tone = 'info', title, message, testId, children }) {
  return html`<div class=${cx('notice', `notice--${tone}`)} role=${tone === 'danger' ? 'alert' : undefined} data-testid=${testId}>
    <${Icon} name=${NOTICE_ICONS[tone]} className="notice__icon" />
    <div class="notice__body">
      ${title && html`<p class="notice__title">${title}</p>`}
      ${message && html`<p>${message}</p>`}
      ${children}
    </div>
  </div>`;
}
