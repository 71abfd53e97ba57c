// Audit log (#/audit?action=&actor=&target_type=): who did what, with a before/after view.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { actorTypeLabel, auditActionLabel } from '../labels.js';
import { h } from '../ui/dom.js';
import { page } from '../ui/page.js';
import { dataTable } from '../ui/table.js';
import { filterText, toolbar } from '../ui/toolbar.js';
import { badge, detailList, mono, time, twoLines } from '../ui/cells.js';
import { openDialog } from '../ui/dialog.js';
import { diffTable } from '../ui/diff.js';

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
  return h(
    'div',
    { class: 'cell-with-badge' },
    badge(actorTypeLabel(e.actor_type), ACTOR_TONES[e.actor_type] || 'neutral'),
    h('span', e.actor_label || '—'),
    e.actor_id != null && h('span', { class: 'muted' }, `#${e.actor_id}`),
  );
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
    body: h(
      'div',
      { class: 'stack' },
      detailList([
        [t('audit.col.at'), time(e.at)],
        [t('audit.col.actor'), actorDetail(e)],
        [t('audit.col.action'), actionCell(e)],
        [t('audit.col.target'), targetText(e)],
        [t('audit.col.ip'), e.ip ? mono(e.ip) : null],
      ]),
      h('h3', { class: 'subheading' }, t('audit.changes')),
      e.before == null && e.after == null ? h('p', { class: 'muted' }, t('audit.no_changes')) : diffTable(e.before, e.after),
    ),
    actions: [{ label: t('common.close'), onClick: (close) => close() }],
  });
}

export default function auditView(ctx) {
  const filters = { action: ctx.query.action || '', actor: ctx.query.actor || '', target_type: ctx.query.target_type || '' };

  const table = dataTable({
    label: t('nav.audit'),
    columns: [
      { key: 'at', label: t('audit.col.at'), nowrap: true, render: (e) => time(e.at) },
      { key: 'actor', label: t('audit.col.actor'), render: actorCell },
      { key: 'action', label: t('audit.col.action'), render: actionCell },
      { key: 'target', label: t('audit.col.target'), render: (e) => targetText(e) },
      { key: 'ip', label: t('audit.col.ip'), nowrap: true, render: (e) => e.ip && mono(e.ip) },
    ],
    load: ({ page: p, perPage, signal }) => api.get('/api/audit', { ...filters, page: p, per_page: perPage }, { signal }),
    page: Number(ctx.query.page) || 1,
    perPage: Number(ctx.query.per_page) || 50,
    onPageChange: ({ page: p, perPage }) => ctx.setQuery({ page: p, per_page: perPage }),
    onRowClick: openEntry,
    empty: () => (filters.action || filters.actor || filters.target_type ? t('audit.empty_filtered') : t('audit.empty')),
    signal: ctx.signal,
  });

  function applyFilters(patch) {
    Object.assign(filters, patch);
    ctx.setQuery({ ...patch, page: null });
    table.reload({ page: 1 });
  }

  const actionList = h('datalist', { id: 'audit-actions' }, KNOWN_ACTIONS.map((a) => h('option', { value: a }, auditActionLabel(a))));

  return page({
    title: t('nav.audit'),
    subtitle: t('audit.subtitle'),
    toolbar: toolbar(
      filterText({ label: t('audit.filter.action'), value: filters.action, placeholder: 'staff.create', list: 'audit-actions', onChange: (action) => applyFilters({ action }) }),
      filterText({ label: t('audit.filter.actor'), value: filters.actor, placeholder: t('audit.filter.actor_placeholder'), onChange: (actor) => applyFilters({ actor }) }),
      filterText({ label: t('audit.filter.target_type'), value: filters.target_type, placeholder: 'staff', onChange: (target_type) => applyFilters({ target_type }) }),
      actionList,
    ),
    body: table.el,
    fill: true,
  });
}
