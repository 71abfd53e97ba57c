// Audit log (#/audit?action=&actor=&target_type=): who did what, with a before/after view.

import { html, useConst } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { actorTypeLabel, auditActionLabel } from '../labels.js';
import { Page } from '../ui/page.js';
import { ColumnChooser, createTable, DataTable, useColumnChooser } from '../ui/table.js';
import { FilterText, Toolbar } from '../ui/toolbar.js';
import { badge, detailList, mono, time, twoLines } from '../ui/cells.js';
import { openDialog } from '../ui/dialog.js';
import { DiffTable } from '../ui/diff.js';

const KNOWN_ACTIONS = [
  'staff.login', 'staff.logout', 'staff.create', 'staff.update',
  'staff.update_self', 'token.create', 'token.revoke', 'settings.update', 'mail.test', 'outbox.clear',
  'job.retry', 'job.cancel',
];

const ACTOR_TONES = { staff: 'info', token: 'accent', system: 'neutral', member: 'neutral' };

function actorCell(e) {
  return twoLines(e.actor_label || e.actor_id || '—', actorTypeLabel(e.actor_type));
}

function actorDetail(e) {
  return html`<div class="cell-with-badge">
    ${badge(actorTypeLabel(e.actor_type), ACTOR_TONES[e.actor_type] || 'neutral')}
    <span>${e.actor_label || '—'}</span>
    ${e.actor_id != null && html`<span class="muted">#${e.actor_id}</span>`}
  </div>`;
}

function actionCell(e) {
  const label = auditActionLabel(e.action);
  return label === e.action ? mono(e.action) : twoLines(label, e.action);
}

function targetText(e) {
  if (!e.target_type) return '';
  return e.target_id != null ? `${e.target_type} #${e.target_id}` : e.target_type;
}

function openEntry(e) {
  openDialog({
    title: t('audit.detail_title'),
    size: 'lg',
    testId: 'audit-detail',
    body: html`<div class="stack">
      ${detailList([
        [t('audit.col.at'), time(e.at)],
        [t('audit.col.actor'), actorDetail(e)],
        [t('audit.col.action'), actionCell(e)],
        [t('audit.col.target'), targetText(e)],
        [t('audit.col.ip'), e.ip ? mono(e.ip) : null],
      ])}
      <h3 class="subheading">${t('audit.changes')}</h3>
      ${e.before == null && e.after == null ? html`<p class="muted">${t('audit.no_changes')}</p>` : html`<${DiffTable} before=${e.before} after=${e.after} />`}
    </div>`,
    actions: [{ label: t('common.close'), onClick: (close) => close() }],
  });
}

export default function AuditView({ ctx }) {
  const filters = useConst(() => ({ action: ctx.query.action || '', actor: ctx.query.actor || '', target_type: ctx.query.target_type || '' }));
  const table = useConst(() =>
    createTable({
      load: ({ page, perPage, signal }) => api.get('/api/audit', { ...filters, page, per_page: perPage }, { signal }),
      page: Number(ctx.query.page) || 1,
      perPage: Number(ctx.query.per_page) || 50,
      onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
      signal: ctx.signal,
    }),
  );

  function applyFilters(patch) {
    Object.assign(filters, patch);
    ctx.setQuery({ ...patch, page: null });
    table.reload({ page: 1 });
  }

  const chooser = useColumnChooser({ storageKey: 'kizuna.admin.audit.columns' });
  const columns = [
    { key: 'at', label: t('audit.col.at'), nowrap: true, always: true, render: (e) => time(e.at) },
    { key: 'actor', label: t('audit.col.actor'), render: actorCell },
    { key: 'action', label: t('audit.col.action'), always: true, render: actionCell },
    { key: 'target', label: t('audit.col.target'), render: (e) => targetText(e) },
    { key: 'ip', label: t('audit.col.ip'), nowrap: true, render: (e) => e.ip && mono(e.ip) },
  ];

  return html`<${Page}
    title=${t('nav.audit')}
    subtitle=${t('audit.subtitle')}
    fill
    toolbar=${html`<${Toolbar}>
      <${FilterText} label=${t('audit.filter.action')} value=${filters.action} placeholder="staff.create" list="audit-actions" onChange=${(action) => applyFilters({ action })} />
      <${FilterText} label=${t('audit.filter.actor')} value=${filters.actor} placeholder=${t('audit.filter.actor_placeholder')} onChange=${(actor) => applyFilters({ actor })} />
      <${FilterText} label=${t('audit.filter.target_type')} value=${filters.target_type} placeholder="staff" onChange=${(target_type) => applyFilters({ target_type })} />
      <${ColumnChooser} chooser=${chooser} columns=${columns} />
      <datalist id="audit-actions">${KNOWN_ACTIONS.map((a) => html`<option value=${a}>${auditActionLabel(a)}</option>`)}</datalist>
    <//>`}
  >
    <${DataTable}
      table=${table}
      label=${t('nav.audit')}
      columns=${chooser.visible(columns)}
      onRowClick=${openEntry}
      empty=${() => (filters.action || filters.actor || filters.target_type ? t('audit.empty_filtered') : t('audit.empty'))}
    />
  <//>`;
}
