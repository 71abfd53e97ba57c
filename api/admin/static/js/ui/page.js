// The frame of a screen: title, actions, toolbar and body.
//
//   return page({
//     title: t('nav.staff'),
//     actions: [button({ label: t('staff.add'), variant: 'primary', icon: 'plus', onClick })],
//     toolbar: toolbar(searchBox({...}), filterSelect({...})),
//     body: table.el,
//     fill: true,   // list screens: the table fills the height and scrolls with a sticky header
//   });
//
// emptyState() and notice() are the standard "nothing here" block and callout.

import { h } from './dom.js';
import { icon as drawIcon } from './icons.js';

export function page({ title, subtitle, back, actions = [], toolbar, body, fill = false }) {
  return h(
    'section',
    { class: ['page', fill && 'page--fill'], 'aria-labelledby': 'page-title' },
    h(
      'header',
      { class: 'page__header' },
      h(
        'div',
        { class: 'page__heading' },
        back && h('a', { class: 'page__back', href: back.href }, drawIcon('back', { size: 16 }), h('span', back.label)),
        h('h1', { class: 'page__title', id: 'page-title', tabindex: '-1' }, title),
        subtitle && h('p', { class: 'page__subtitle' }, subtitle),
      ),
      actions.length > 0 && h('div', { class: 'page__actions' }, actions),
    ),
    toolbar,
    h('div', { class: 'page__body' }, body),
  );
}

export function emptyState({ icon, title, message, action }) {
  return h(
    'div',
    { class: 'empty' },
    icon && h('div', { class: 'empty__icon' }, drawIcon(icon, { size: 28 })),
    title && h('p', { class: 'empty__title' }, title),
    message && h('p', { class: 'empty__message' }, message),
    action,
  );
}

/** A callout. tone: 'info' | 'warning' | 'danger' | 'success'. */
export function notice({ tone = 'info', title, message, children }) {
  const iconName = { info: 'info', warning: 'warning', danger: 'warning', success: 'check' }[tone];
  return h(
    'div',
    { class: ['notice', `notice--${tone}`], role: tone === 'danger' ? 'alert' : null },
    drawIcon(iconName, { className: 'notice__icon' }),
    h('div', { class: 'notice__body' }, title && h('p', { class: 'notice__title' }, title), message && h('p', message), children),
  );
}
