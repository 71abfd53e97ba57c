// Tabs (WAI-ARIA tabs pattern: arrow keys, Home and End move between tabs). A panel renders on
// its first showing and then stays mounted (hidden), so an iframe is not loaded twice.
//
//   html`<${Tabs} label=${t('outbox.tabs')} selected="html" items=${[
//     { id: 'html', label: 'HTML', render: () => html`<iframe …>`, disabled: !mail.has_html },
//     { id: 'text', label: t('outbox.tab.text'), render: () => html`<pre>${mail.text}</pre>` },
//   ]} />`

import { html, cx, uid, useConst, useRef, useState } from '../lib.js';

export function Tabs({ items, selected, label, onChange }) {
  const base = useConst(() => uid('tab'));
  const first = items.find((it) => it.id === selected && !it.disabled) || items.find((it) => !it.disabled);
  const [current, setCurrent] = useState(first?.id);
  const seen = useRef(new Set());
  if (current) seen.current.add(current);
  const buttons = useRef({});

  function select(id, focus = false) {
    setCurrent(id);
    if (focus) buttons.current[id]?.focus();
    onChange?.(id);
  }

  function onKey(e, id) {
    const enabled = items.filter((it) => !it.disabled);
    const i = enabled.findIndex((it) => it.id === id);
    let next = null;
    if (e.key === 'ArrowRight') next = enabled[(i + 1) % enabled.length];
    else if (e.key === 'ArrowLeft') next = enabled[(i - 1 + enabled.length) % enabled.length];
    else if (e.key === 'Home') next = enabled[0];
    else if (e.key === 'End') next = enabled[enabled.length - 1];
    if (next) {
      e.preventDefault();
      select(next.id, true);
    }
  }

  return html`<div class="tabs">
    <div class="tabs__list" role="tablist" aria-label=${label}>
      ${items.map(
        (item) => html`<button
          type="button"
          role="tab"
          id=${`${base}-${item.id}`}
          class=${cx('tabs__tab', item.id === current && 'is-selected')}
          disabled=${!!item.disabled}
          aria-selected=${String(item.id === current)}
          aria-controls=${`${base}-${item.id}-panel`}
          tabindex=${item.id === current ? '0' : '-1'}
          ref=${(el) => {
            buttons.current[item.id] = el;
          }}
          onClick=${() => select(item.id, true)}
          onKeyDown=${(e) => onKey(e, item.id)}
        >${item.label}</button>`,
      )}
    </div>
    ${items
      .filter((item) => seen.current.has(item.id))
      .map(
        (item) => html`<div class="tabs__panel" role="tabpanel" id=${`${base}-${item.id}-panel`} aria-labelledby=${`${base}-${item.id}`}
          tabindex="0" hidden=${item.id !== current} key=${item.id}>${item.render()}</div>`,
      )}
  </div>`;
}
