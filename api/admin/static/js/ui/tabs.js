// Tabs (WAI-ARIA tabs pattern: arrow keys move between tabs). Panels render on first show.
//
//   tabs([
//     { id: 'html', label: 'HTML', render: () => iframe, disabled: !mail.has_html },
//     { id: 'text', label: t('outbox.tab.text'), render: () => h('pre', mail.text) },
//   ], { selected: 'html', label: t('outbox.tabs') }).el

import { h, mount, uid } from './dom.js';

export function tabs(items, { selected, label, onChange } = {}) {
  const base = uid('tab');
  const rendered = new Map();
  const list = h('div', { class: 'tabs__list', role: 'tablist', 'aria-label': label });
  const panel = h('div', { class: 'tabs__panel', role: 'tabpanel', tabindex: '0' });
  const buttons = items.map((item) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `${base}-${item.id}`,
        class: 'tabs__tab',
        disabled: !!item.disabled,
        'aria-selected': 'false',
        tabindex: '-1',
        onclick: () => select(item.id, true),
        onkeydown: onKey,
      },
      item.label,
    ),
  );
  list.append(...buttons);

  function enabled() {
    return items.map((it, i) => [it, buttons[i]]).filter(([it]) => !it.disabled);
  }

  function select(id, focus = false) {
    const index = items.findIndex((it) => it.id === id);
    if (index < 0) return;
    buttons.forEach((b, i) => {
      const on = i === index;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      b.classList.toggle('is-selected', on);
    });
    if (!rendered.has(id)) rendered.set(id, items[index].render());
    panel.setAttribute('aria-labelledby', buttons[index].id);
    mount(panel, rendered.get(id));
    if (focus) buttons[index].focus();
    onChange?.(id);
  }

  function onKey(e) {
    const list2 = enabled();
    const i = list2.findIndex(([, b]) => b === e.currentTarget);
    let next = null;
    if (e.key === 'ArrowRight') next = list2[(i + 1) % list2.length];
    else if (e.key === 'ArrowLeft') next = list2[(i - 1 + list2.length) % list2.length];
    else if (e.key === 'Home') next = list2[0];
    else if (e.key === 'End') next = list2[list2.length - 1];
    if (next) {
      e.preventDefault();
      select(next[0].id, true);
    }
  }

  const first = items.find((it) => it.id === selected && !it.disabled) || items.find((it) => !it.disabled);
  if (first) select(first.id);

  return { el: h('div', { class: 'tabs' }, list, panel), select };
}
