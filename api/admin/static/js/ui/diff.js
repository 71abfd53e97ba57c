// Before/after comparison of two flat objects (audit entries, record change history).
//
//   html`<${DiffTable} before=${entry.before} after=${entry.after} />`   changed keys, "show all" toggle
//   diffEntries(before, after)                   → [{ key, before, after, kind }]
//
// kind: 'added' | 'removed' | 'changed' | 'same'. Values are shown as text (objects as JSON).

import { html, useSignal } from '../lib.js';
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

function Value({ present, value }) {
  if (!present) return html`<span class="muted">${t('diff.absent')}</span>`;
  if (value === null) return html`<span class="muted">null</span>`;
  if (typeof value === 'object') return html`<pre class="diff__json">${JSON.stringify(value, null, 2)}</pre>`;
  return html`<span class="diff__value">${String(value)}</span>`;
}

export function DiffTable({ before, after, keyLabel = (k) => k }) {
  const entries = diffEntries(before, after);
  const changed = entries.filter((e) => e.kind !== 'same');
  const showAll = useSignal(changed.length === 0);
  if (entries.length === 0) return html`<p class="muted">${t('diff.nothing')}</p>`;
  const rows = showAll.value ? entries : changed;
  return html`<div class="diff">
    ${changed.length > 0 &&
    changed.length < entries.length &&
    html`<label class="diff__toggle">
      <input type="checkbox" class="checkbox" checked=${showAll.value} onChange=${(e) => (showAll.value = e.currentTarget.checked)} />
      <span>${t('diff.show_all', { count: entries.length })}</span>
    </label>`}
    <div class="table-scroll table-scroll--plain">
      <table class="table table--compact">
        <thead><tr><th scope="col">${t('diff.key')}</th><th scope="col">${t('diff.before')}</th><th scope="col">${t('diff.after')}</th></tr></thead>
        <tbody>
          ${rows.map(
            (e) => html`<tr class=${`diff__row diff__row--${e.kind}`} key=${e.key}>
              <th scope="row">${keyLabel(e.key)}</th>
              <td class="diff__before"><${Value} present=${e.hasBefore} value=${e.before} /></td>
              <td class="diff__after"><${Value} present=${e.hasAfter} value=${e.after} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </div>`;
}
