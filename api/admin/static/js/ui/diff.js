// Before/after comparison of two flat objects (audit entries, record change history).
//
//   diffTable(entry.before, entry.after)         → table of changed keys, with "show all" toggle
//   diffEntries(before, after)                   → [{ key, before, after, kind }]
//
// kind: 'added' | 'removed' | 'changed' | 'same'. Values are shown as text (objects as JSON).

import { h, mount } from './dom.js';
import { t } from '../i18n.js';

const has = (o, k) => o != null && Object.prototype.hasOwnProperty.call(o, k);

export function diffEntries(before, after) {
  const keys = [];
  for (const o of [before, after]) for (const k of Object.keys(o || {})) if (!keys.includes(k)) keys.push(k);
  return keys.map((key) => {
    const b = has(before, key);
    const a = has(after, key);
    let kind = 'same';
    if (b && !a) kind = before && after ? 'removed' : 'same';
    if (!b && a) kind = before && after ? 'added' : 'same';
    if (b && a && JSON.stringify(before[key]) !== JSON.stringify(after[key])) kind = 'changed';
    // A creation (no before) or deletion (no after) shows every key as a change.
    if (!before && a) kind = 'added';
    if (!after && b) kind = 'removed';
    return { key, before: before?.[key], after: after?.[key], hasBefore: b, hasAfter: a, kind };
  });
}

function valueNode(present, value) {
  if (!present) return h('span', { class: 'muted' }, t('diff.absent'));
  if (value === null) return h('span', { class: 'muted' }, 'null');
  if (typeof value === 'object') return h('pre', { class: 'diff__json' }, JSON.stringify(value, null, 2));
  return h('span', { class: 'diff__value' }, String(value));
}

export function diffTable(before, after, { keyLabel = (k) => k } = {}) {
  const entries = diffEntries(before, after);
  const changed = entries.filter((e) => e.kind !== 'same');
  let showAll = changed.length === 0;
  const tbody = h('tbody');
  const wrap = h('div', { class: 'diff' });

  if (entries.length === 0) return h('p', { class: 'muted' }, t('diff.nothing'));

  function render() {
    const rows = showAll ? entries : changed;
    mount(
      tbody,
      rows.map((e) =>
        h(
          'tr',
          { class: `diff__row diff__row--${e.kind}` },
          h('th', { scope: 'row' }, keyLabel(e.key)),
          h('td', { class: 'diff__before' }, valueNode(e.hasBefore, e.before)),
          h('td', { class: 'diff__after' }, valueNode(e.hasAfter, e.after)),
        ),
      ),
    );
  }

  const toggle =
    changed.length > 0 &&
    changed.length < entries.length &&
    h('label', { class: 'diff__toggle' }, h('input', { type: 'checkbox', class: 'checkbox', onchange: (e) => { showAll = e.target.checked; render(); } }), h('span', t('diff.show_all', { count: entries.length })));

  render();
  mount(
    wrap,
    toggle,
    h(
      'div',
      { class: 'table-scroll table-scroll--plain' },
      h(
        'table',
        { class: 'table table--compact' },
        h('thead', h('tr', h('th', { scope: 'col' }, t('diff.key')), h('th', { scope: 'col' }, t('diff.before')), h('th', { scope: 'col' }, t('diff.after')))),
        tbody,
      ),
    ),
  );
  return wrap;
}
