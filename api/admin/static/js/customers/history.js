// A record's history as a readable timeline (views/customer-record.js): newest first; who (a
// staff member, an API token, the system…), when, from where (admin panel, API, import, form,
// member), and each changed field's value before → after, shown by its type.
//
//   html`<${HistoryTimeline} entries=${history} design=${design} designs=${designs} owners=${owners} refs=${refs} />`
//
// A merge (action `merge`) also lists the merged records with everything they held and the
// related rows moved (`designs` names their tables); a merged record's `merged` entry links to
// the record it went into.

import { html, cx } from '../lib.js';
import { t, tOr } from '../i18n.js';
import { actorTypeLabel } from '../labels.js';
import { badge, time } from '../ui/cells.js';
import { Icon } from '../ui/icons.js';
import { displayValue } from './display.js';
import { fieldLabel, findField, ownerName, statusLabel, tableLabel } from './design.js';

const ACTION_TONES = { create: 'success', update: 'info', delete: 'danger', merge: 'accent', merged: 'warning' };
const MERGE_KEY = '$merge'; // the merge's own facts (api/customers/merge.py), not a field
const ACTOR_ICONS = { staff: 'users', token: 'key', system: 'layers', member: 'users' };

export const sourceLabel = (source) => tOr(`customers.source.${source}`, source);

function actionLabel(action) {
  if (action === 'create') return t('customers.record.history.create');
  if (action === 'update') return t('customers.record.history.update');
  if (action === 'delete') return t('customers.record.history.delete');
  if (action === 'merge') return t('customers.merge.history.merge');
  if (action === 'merged') return t('customers.merge.history.merged');
  return action;
}

/** "Name <mail>" labels of staff show the name; the address stays in the tooltip. */
function actorName(entry) {
  const label = entry.actor_label || '';
  const m = /^(.*\S)\s*<[^<>\s]+>$/.exec(label);
  return m ? m[1] : label || actorTypeLabel(entry.actor_type);
}

/** The rows of an entry: [label, before, after] in the design's field order, then the rest. */
export function changeRows(entry, { design, owners, refs }) {
  const changes = entry.changes || {};
  const show = (key, value) => {
    if (value == null || value === '' || (Array.isArray(value) && value.length === 0)) return null;
    if (key === 'owner_id') return ownerName(owners, value);
    if (key === 'status') return statusLabel(design, value);
    const field = findField(design, key);
    if (field) return displayValue(field, value, { refs });
    if (key === 'groups' && Array.isArray(value)) return value.join(', '); // a member's groups (api/groups)
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  };
  const label = (key) => {
    if (key === 'owner_id') return t('customers.list.col.owner');
    if (key === 'status') return t('customers.list.col.status');
    const field = findField(design, key);
    if (!field && key === 'groups') return t('groups.record.label');
    return field ? fieldLabel(field) : key;
  };
  const order = (design?.fields || []).map((f) => f.key);
  const keys = Object.keys(changes).filter((k) => k !== MERGE_KEY).sort((a, b) => {
    const rank = (k) => (k === 'status' ? -2 : k === 'owner_id' ? -1 : order.indexOf(k) < 0 ? 9999 : order.indexOf(k));
    return rank(a) - rank(b);
  });
  return keys.map((key) => ({ key, label: label(key), before: show(key, changes[key]?.before), after: show(key, changes[key]?.after) }));
}

/** What a merge entry adds: the sources with everything they held, the related rows moved; or,
 * on a source's timeline, the record it was merged into. */
function MergeFacts({ entry, design, designs, owners, refs }) {
  const info = entry.changes?.[MERGE_KEY];
  if (!info) return null;
  const table = encodeURIComponent(design?.key || '');
  if (entry.action === 'merged') {
    return html`<p class="history__merge" data-testid="history-merged-into">${t('customers.merge.history.into')}
      <a href=${`#/customers/${table}/${encodeURIComponent(info.survivor)}`}>#${info.survivor}</a></p>`;
  }
  return html`<div class="history__merge" data-testid="history-merge">
    ${(info.sources || []).map((src) => {
      const rows = changeRows({ changes: Object.fromEntries(Object.entries(src.values || {}).map(([k, v]) => [k, { after: v }])) }, { design, owners, refs })
        .filter((r) => r.after != null);
      return html`<details key=${src.id} class="history__source">
        <summary>${t('customers.merge.history.source', { id: src.id })}</summary>
        <dl class="history__changes">
          ${rows.map((r) => html`<div class="history__change" key=${r.key}><dt>${r.label}</dt><dd><span class="history__after">${r.after}</span></dd></div>`)}
        </dl>
      </details>`;
    })}
    ${(info.moved || []).length > 0 && html`<p class="muted">${t('customers.merge.history.moved', {
      list: info.moved.map((m) => {
        const other = designs?.get(m.table);
        const field = other && findField(other, m.field);
        return `${other ? tableLabel(other) : m.table} (${field ? fieldLabel(field) : m.field}) ${m.count}`;
      }).join(', '),
    })}</p>`}
    ${info.logins?.moved_from != null && html`<p class="muted" data-testid="history-merge-login">${t('customers.merge.history.login_moved', { id: info.logins.moved_from })}</p>`}
    ${(info.logins?.removed_from || []).length > 0 && html`<p class="muted">${t('customers.merge.history.login_removed', { list: info.logins.removed_from.map((id) => `#${id}`).join(', ') })}</p>`}
    ${info.logins?.sessions_ended > 0 && html`<p class="muted">${t('customers.merge.history.sessions_ended', { count: info.logins.sessions_ended })}</p>`}
  </div>`;
}

function Value({ value }) {
  return value == null ? html`<span class="muted history__none">${t('customers.record.history.empty_value')}</span>` : value;
}

export function HistoryTimeline({ entries, design, designs, owners, refs }) {
  if (!entries.length) return html`<p class="muted panel-pad">${t('customers.record.history.none')}</p>`;
  return html`<div class="history">
    <ol class="history__list">
      ${entries.map((entry) => {
        const rows = changeRows(entry, { design, owners, refs });
        return html`<li class=${cx('history__entry', `history__entry--${entry.action}`)} key=${entry.id} data-testid="history-entry">
          <span class="history__dot" aria-hidden="true"><${Icon} name=${ACTOR_ICONS[entry.actor_type] || 'info'} size=${14} /></span>
          <div class="history__body">
            <div class="history__head">
              ${badge(actionLabel(entry.action), ACTION_TONES[entry.action] || 'neutral')}
              <span class="history__who" title=${entry.actor_label || ''}>${actorName(entry)}</span>
              <span class="history__meta">${[...new Set([actorTypeLabel(entry.actor_type), sourceLabel(entry.source)])].join(' · ')}</span>
              <span class="history__when">${time(entry.at)}</span>
            </div>
            ${rows.length > 0 &&
            html`<dl class="history__changes">
              ${rows.map((r) => html`<div class="history__change" key=${r.key}>
                <dt>${r.label}</dt>
                <dd>
                  ${entry.action !== 'create' && html`<span class=${cx('history__before', r.before != null && 'history__before--value')}><${Value} value=${r.before} /></span>`}
                  ${(entry.action === 'update' || entry.action === 'merge') && html`<span class="history__arrow" aria-label=${t('customers.record.history.to')}>→</span>`}
                  ${entry.action !== 'delete' && entry.action !== 'merged' && html`<span class="history__after"><${Value} value=${r.after} /></span>`}
                </dd>
              </div>`)}
            </dl>`}
            <${MergeFacts} entry=${entry} design=${design} designs=${designs} owners=${owners} refs=${refs} />
          </div>
        </li>`;
      })}
    </ol>
  </div>`;
}
