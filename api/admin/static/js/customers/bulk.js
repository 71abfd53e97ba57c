// Selection, bulk actions and export on the records list (views/customer-records.js).
//
//   const sel = createSelection(list);           // ids picked on the pages, or "all N matching"
//   columns = [selectColumn(sel), ...columns];   // a checkbox per row, one for the page
//   html`<${BulkBar} list=${list} sel=${sel} />` // shown while something is selected
//   exportDialog(list, sel)                      // format, encoding, columns, labels → download
//
// Export: a set of up to EXPORT_JOB_FROM records is downloaded at once (GET …/export); a larger
// one is prepared in the background by default (POST …/exports, an `exports.run` job): the
// dialog shows the rows written, then offers the file, which stays downloadable for 24 hours.
// The "in the background" box lets staff choose either way.
//
// What the list shows (filter, search, sort) is the record set both act on: the selection's ids
// and-ed with it, or all of it. Bulk actions run as a job (POST …/bulk → the job dialog), and the
// outcome lists the records that were skipped and why (changed meanwhile, not yours…).

import { html, signal, computed } from '../lib.js';
import { api, ApiError, isAbort } from '../api.js';
import { Notice } from '../ui/page.js';
import { t } from '../i18n.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { Button } from '../ui/button.js';
import { alert, confirm, formDialog, openDialog } from '../ui/dialog.js';
import { jobDialog } from '../ui/job-dialog.js';
import { toast } from '../ui/toast.js';
import { activeFields, fieldLabel, statuses, labelOf } from './design.js';
import { can } from '../session.js';

export function createSelection(list) {
  const ids = signal(new Set());
  const all = signal(false); // every record matching the list, not only the ticked ones
  const count = computed(() => (all.value ? list.table.total.value : ids.value.size));
  const pageIds = () => list.table.items.value.map((r) => r.id);
  return {
    ids,
    all,
    count,
    has: (id) => all.value || ids.value.has(id),
    toggle(id) {
      const next = new Set(ids.value);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      all.value = false;
      ids.value = next;
    },
    pageState() {
      const page = pageIds();
      const on = page.filter((id) => all.value || ids.value.has(id)).length;
      return on === 0 ? 'none' : on === page.length ? 'all' : 'some';
    },
    togglePage() {
      const page = pageIds();
      const next = new Set(ids.value);
      const allOn = page.every((id) => next.has(id));
      for (const id of page) allOn ? next.delete(id) : next.add(id);
      all.value = false;
      ids.value = next;
    },
    selectAll() {
      all.value = true;
    },
    clear() {
      all.value = false;
      ids.value = new Set();
    },
    /** The record set as the API takes it: {ids} or the list's {where, q}. */
    target() {
      const set = { where: list.where.value ?? null, q: list.search.value || null };
      return all.value ? set : { ...set, ids: [...ids.value] };
    },
  };
}

export function selectColumn(sel) {
  const state = sel.pageState();
  return {
    key: '__select',
    label: html`<input type="checkbox" class="checkbox" data-testid="select-page" aria-label=${t('customers.bulk.select_page')}
      checked=${state === 'all'} indeterminate=${state === 'some'} onChange=${() => sel.togglePage()} />`,
    width: '2.5rem',
    className: 'cell--select',
    render: (r) => html`<input type="checkbox" class="checkbox" data-testid=${`select-${r.id}`} aria-label=${t('customers.bulk.select_row', { id: r.id })}
      checked=${sel.has(r.id)} onChange=${() => sel.toggle(r.id)} />`,
  };
}

const count = (n) => fmt.number(n);

export function BulkBar({ list, sel }) {
  const n = sel.count.value;
  if (!n) return null;
  const total = list.table.total.value;
  const exact = list.table.totalExact.value;
  const pageFull = sel.pageState() === 'all' && !sel.all.value && total > sel.ids.value.size;
  return html`<div class="bulk-bar" role="region" aria-label=${t('customers.bulk.bar')} data-testid="bulk-bar">
    <strong data-testid="bulk-count">${sel.all.value
      ? exact ? t('customers.bulk.all_selected', { count: count(n) }) : t('customers.bulk.all_selected_about', { count: count(n) })
      : t('customers.bulk.selected', { count: count(n) })}</strong>
    ${pageFull && html`<${Button} size="sm" variant="ghost" testId="select-all" label=${exact ? t('customers.bulk.select_all', { count: count(total) }) : t('customers.bulk.select_all_about', { count: count(total) })} onClick=${() => sel.selectAll()} />`}
    <span class="pager__spacer"></span>
    ${list.canWrite && html`
      <${Button} size="sm" label=${t('customers.bulk.set_field')} testId="bulk-set-field" onClick=${() => runBulk(list, sel, 'set_field')} />
      <${Button} size="sm" label=${t('customers.bulk.owner')} testId="bulk-owner" onClick=${() => runBulk(list, sel, 'owner')} />
      ${statuses(list.design).length > 0 && html`<${Button} size="sm" label=${t('customers.bulk.status')} testId="bulk-status" onClick=${() => runBulk(list, sel, 'status')} />`}
      <${Button} size="sm" variant="danger" label=${t('customers.bulk.delete')} testId="bulk-delete" onClick=${() => runBulk(list, sel, 'delete')} />`}
    ${list.design.is_member_table && can('groups:write') && html`<${Button} size="sm" label=${t('groups.bulk.button')} testId="bulk-groups" onClick=${() => runGroupBulk(list, sel)} />`}
    <${Button} size="sm" label=${t('customers.export.selected')} icon="download" testId="bulk-export" onClick=${() => exportDialog(list, sel)} />
    <${Button} size="sm" variant="ghost" label=${t('customers.bulk.clear')} onClick=${() => sel.clear()} />
  </div>`;
}

// ---------------------------------------------------------------------------------------------
// Bulk actions.

const TITLES = {
  set_field: () => t('customers.bulk.set_field_title'),
  owner: () => t('customers.bulk.owner_title'),
  status: () => t('customers.bulk.status_title'),
  delete: () => t('customers.bulk.delete_title'),
};

const SKIPPED = {
  changed: () => t('customers.bulk.skipped.changed'),
  not_owner: () => t('customers.bulk.skipped.not_owner'),
  transition_not_allowed: () => t('customers.bulk.skipped.transition_not_allowed'),
  in_use: () => t('customers.bulk.skipped.in_use'),
  gone: () => t('customers.bulk.skipped.gone'),
};

function actionFields(list, action) {
  const { design, owners } = list;
  if (action === 'set_field') {
    const fields = activeFields(design).filter((f) => f.type !== 'file' && !f.unique);
    return [
      { name: 'field', type: 'select', label: t('customers.bulk.field'), required: true, options: fields.map((f) => ({ value: f.key, label: fieldLabel(f) })) },
      { name: 'value', type: 'text', label: t('customers.bulk.value'), help: t('customers.bulk.value_help') },
    ];
  }
  if (action === 'owner') {
    const active = (owners || []).filter((o) => o.active);
    return [{ name: 'owner_id', type: 'select', label: t('customers.bulk.owner_field'), options: [{ value: null, label: t('customers.bulk.no_owner') }, ...active.map((o) => ({ value: o.id, label: o.name }))] }];
  }
  if (action === 'status') {
    return [{ name: 'status', type: 'select', label: t('customers.bulk.status_field'), required: true, options: statuses(design).filter((s) => !s.retired).map((s) => ({ value: s.value, label: labelOf(s.label, s.value) })) }];
  }
  return [];
}

export async function runBulk(list, sel, action) {
  const n = count(sel.count.value);
  const base = `${list.base}/bulk`;
  const target = sel.target();
  let started;
  if (action === 'delete') {
    const ok = await confirm({
      title: t('customers.bulk.delete_title'),
      message: t('customers.bulk.delete_message', { count: n }),
      confirmLabel: t('customers.bulk.delete_confirm', { count: n }),
      danger: true,
    });
    if (!ok) return;
    try {
      started = await api.post(base, { ...target, action });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
      return;
    }
  } else {
    started = await formDialog({
      title: TITLES[action](),
      intro: t('customers.bulk.intro', { count: n }),
      testId: 'bulk-dialog',
      submitLabel: t('customers.bulk.apply', { count: n }),
      submitTestId: 'bulk-apply',
      fields: actionFields(list, action),
      onSubmit: (values) => api.post(base, { ...target, action, ...values }),
    });
    if (!started) return;
  }
  const job = await api.get(`/api/jobs/${started.job_id}`);
  const final = await jobDialog(job, {
    title: TITLES[action](),
    messages: { running: t('customers.bulk.running', { count: count(started.count) }) },
  });
  if (final.state === 'done') {
    const report = await api.get(`${base}/${started.job_id}`);
    await showReport(list, report);
  }
  sel.clear();
  list.table.reload();
}

/** Add the set to a group, or remove it from one (member table only): POST /api/groups/<key>/bulk, a job. */
async function runGroupBulk(list, sel) {
  const n = count(sel.count.value);
  let groups;
  try {
    groups = (await api.get('/api/groups')).items;
  } catch (err) {
    toast(errorText(err), { type: 'error' });
    return;
  }
  if (!groups.length) {
    await alert({ title: t('groups.bulk.title'), message: t('groups.none_yet') });
    return;
  }
  const target = sel.target();
  const started = await formDialog({
    title: t('groups.bulk.title'),
    intro: t('groups.bulk.intro', { count: n }),
    testId: 'bulk-groups-dialog',
    submitLabel: t('customers.bulk.apply', { count: n }),
    submitTestId: 'bulk-groups-apply',
    fields: [
      { name: 'action', type: 'select', label: t('groups.bulk.action'), value: 'add', options: [{ value: 'add', label: t('groups.bulk.add') }, { value: 'remove', label: t('groups.bulk.remove') }] },
      { name: 'group', type: 'select', label: t('groups.bulk.group'), required: true, value: groups[0].key, options: groups.map((g) => ({ value: g.key, label: `${labelOf(g.label, g.key)} (${g.key})` })) },
    ],
    onSubmit: (v) => api.post(`/api/groups/${encodeURIComponent(v.group)}/bulk`, { ...target, action: v.action }).then((r) => ({ ...r, group: v.group })),
  });
  if (!started) return;
  const job = await api.get(`/api/jobs/${started.job_id}`);
  const final = await jobDialog(job, { title: t('groups.bulk.title'), messages: { running: t('customers.bulk.running', { count: count(started.count) }) } });
  if (final.state === 'done') {
    const report = await api.get(`/api/groups/${encodeURIComponent(started.group)}/bulk/${started.job_id}`);
    toast(t('groups.bulk.report', { done: count(report.done), unchanged: count(report.unchanged) }), { type: 'success' });
  }
  sel.clear();
  list.table.reload();
}

function showReport(list, report) {
  const reasons = report.skipped.map((s) => html`<li key=${`${s.record_id}-${s.reason}`}>
    <a href=${`#/customers/${encodeURIComponent(list.tableKey)}/${s.record_id}`}>#${s.record_id}</a> ${(SKIPPED[s.reason] || (() => s.reason))()}</li>`);
  const message = html`<div data-testid="bulk-report">
    <p>${t('customers.bulk.report', { done: count(report.done), unchanged: count(report.unchanged), skipped: count(report.skipped_count) })}</p>
    ${reasons.length > 0 && html`<ul class="bulk-report__list">${reasons}</ul>`}
  </div>`;
  return alert({ title: t('customers.bulk.report_title'), message });
}

// ---------------------------------------------------------------------------------------------
// Export.

function fileName(disposition, fallback) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition || '');
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="([^"]+)"/i.exec(disposition || '');
  return plain ? plain[1] : fallback;
}

async function download(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: '*/*' } });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, problem);
  }
  const blob = await response.blob();
  const name = fileName(response.headers.get('content-disposition'), 'export.csv');
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return { name, rows: Number(response.headers.get('x-export-rows') || 0) };
}

function exportUrl(list, sel, values, replace = false) {
  const target = sel ? sel.target() : { where: list.where.value ?? null, q: list.search.value || null };
  const query = new URLSearchParams();
  const put = (k, v) => v != null && v !== '' && query.set(k, v);
  put('format', values.format);
  if (values.format === 'csv') put('encoding', values.encoding);
  put('labels', values.labels);
  put('values', values.values);
  if (values.columns === 'shown') put('columns', ['id', ...list.columns.value.filter((k) => k !== 'id')].join(','));
  put('where', target.where ? JSON.stringify(target.where) : null);
  put('q', target.q);
  put('sort', list.sort.value || null);
  if (target.ids) put('ids', target.ids.join(','));
  if (replace || values.replace) put('replace', 'true');
  return `${list.base}/export?${query}`;
}

/** The body of POST …/exports: the same set and options as exportUrl's query. */
function exportBody(list, sel, values, replace = false) {
  const target = sel ? sel.target() : { where: list.where.value ?? null, q: list.search.value || null };
  const body = { format: values.format, header: values.labels, values: values.values, replace: !!(replace || values.replace) };
  if (values.format === 'csv') body.encoding = values.encoding;
  if (values.columns === 'shown') body.columns = ['id', ...list.columns.value.filter((k) => k !== 'id')];
  if (target.where) body.where = target.where;
  if (target.q) body.q = target.q;
  if (list.sort.value) body.sort = list.sort.value;
  if (target.ids) body.ids = target.ids;
  return body;
}

export const EXPORT_JOB_FROM = 5_000;

/** Follows an export job: rows written of the total, then the file to download (or the gaps of a
 *  refused CP932 export). Resolves with the last state, and whether the file was downloaded. */
function exportJobDialog(list, started) {
  const base = `${list.base}/exports/${started.job_id}`;
  const current = signal(started);
  const problem = signal(null);
  const controller = new AbortController();
  let downloaded = false;
  const closeOnly = [{ label: t('common.close'), onClick: (close) => close() }];

  function Status() {
    const s = current.value;
    const total = s.rows_total || 0;
    const written = Math.min(s.rows_written || 0, total || Infinity);
    let message = null;
    if (problem.value) message = html`<${Notice} tone="danger" message=${problem.value} />`;
    else if (s.state === 'ready') message = html`<${Notice} tone="success" message=${t('customers.export.job_ready', { count: count(s.rows_written), until: fmt.dateTime(s.expires_at) })} />`;
    else if (s.state === 'failed') message = html`<${Notice} tone="danger" title=${t('job.failed')} message=${s.error || null} />`;
    else if (s.state === 'expired') message = html`<${Notice} tone="warning" message=${t('customers.export.job_expired')} />`;
    else if (s.state === 'refused') message = html`<${Notice} tone="warning" message=${t('customers.export.gaps_intro', { count: count(s.gap_count) })} />`;
    const running = s.state === 'queued' || s.state === 'running';
    return html`<div class="import-progress" role="status" aria-live="polite" data-testid="export-job">
      ${running && html`<p class="job__running"><span class="spinner"></span>${t('customers.export.job_running')}</p>`}
      <progress max=${total || 1} value=${s.state === 'ready' ? total || 1 : written}></progress>
      <p class="import-progress__text" data-testid="export-job-rows">${t('customers.export.job_rows', { done: count(s.state === 'ready' ? s.rows_written : written), total: count(total) })}</p>
      ${message}
    </div>`;
  }

  const dlg = openDialog({ title: t('customers.export.job_title'), size: 'sm', body: Status, actions: closeOnly, testId: 'export-job-dialog' });
  dlg.result.then(() => controller.abort());

  function offer() {
    dlg.setActions([
      { label: t('common.close'), onClick: (close) => close() },
      {
        label: t('customers.export.download'), variant: 'primary', autofocus: true, testId: 'export-job-download',
        onClick: async (close) => {
          try {
            const got = await download(`${base}/file`);
            downloaded = true;
            toast(t('customers.export.done', { name: got.name }), { type: 'success' });
            close();
          } catch (err) {
            if (err instanceof ApiError && err.code === 'export_expired') current.value = { ...current.value, state: 'expired' };
            problem.value = errorText(err);
          }
        },
      },
    ]);
  }

  async function follow() {
    let s = started;
    while (s.state === 'queued' || s.state === 'running') {
      await new Promise((r) => setTimeout(r, 700));
      if (controller.signal.aborted) return s;
      try {
        s = await api.get(base, null, { signal: controller.signal });
      } catch (err) {
        if (isAbort(err)) return s;
        problem.value = errorText(err);
        return s;
      }
      current.value = s;
    }
    if (s.state === 'ready') offer();
    else if (s.state === 'refused') dlg.close(s);
    return s;
  }

  return Promise.all([follow(), dlg.result]).then(([s]) => ({ state: s, downloaded }));
}

/** The gaps of a refused CP932 export: each record and field, and a way to replace them. */
function gapsDialog(list, err, replaceLabel = t('customers.export.replace_download')) {
  const fields = new Map(activeFields(list.design).map((f) => [f.key, fieldLabel(f)]));
  const items = err.errors.slice(0, 100).map((e) => {
    const p = e.params || {};
    return html`<li key=${e.field}><a href=${`#/customers/${encodeURIComponent(list.tableKey)}/${p.record_id}`}>#${p.record_id}</a>
      ${' '}${fields.get(p.field) || p.field}: <span class="gap-chars">${p.chars}</span></li>`;
  });
  const total = err.detail.match(/^\d+/)?.[0] || String(err.errors.length);
  const dlg = openDialog({
    title: t('customers.export.gaps_title'),
    testId: 'export-gaps',
    body: html`<div>
      <p>${t('customers.export.gaps_intro', { count: total })}</p>
      <ul class="bulk-report__list" data-testid="export-gaps-list">${items}</ul>
      <p class="muted">${t('customers.export.gaps_help')}</p>
    </div>`,
    actions: [
      { label: t('common.cancel'), onClick: (close) => close(false) },
      { label: replaceLabel, variant: 'primary', testId: 'export-replace', onClick: (close) => close(true) },
    ],
  });
  return dlg.result;
}

export async function exportDialog(list, sel = null) {
  const n = sel ? sel.count.value : list.table.total.value;
  const fields = [
    { name: 'format', type: 'select', label: t('customers.export.format'), value: 'csv', testId: 'export-format',
      options: [{ value: 'csv', label: 'CSV' }, { value: 'xlsx', label: t('customers.export.xlsx') }] },
    { name: 'encoding', type: 'select', label: t('customers.export.encoding'), value: 'utf-8-bom', testId: 'export-encoding',
      help: t('customers.export.encoding_help'), visible: (v) => v.format === 'csv',
      options: [
        { value: 'utf-8-bom', label: t('customers.export.utf8_bom') },
        { value: 'utf-8', label: t('customers.export.utf8') },
        { value: 'cp932', label: t('customers.export.cp932') },
      ] },
    { name: 'replace', type: 'checkbox', label: t('customers.export.replace'), help: t('customers.export.replace_help'),
      visible: (v) => v.format === 'csv' && v.encoding === 'cp932' },
    { name: 'columns', type: 'select', label: t('customers.export.columns'), value: 'shown',
      options: [{ value: 'shown', label: t('customers.export.columns_shown') }, { value: 'all', label: t('customers.export.columns_all') }] },
    { name: 'labels', type: 'select', label: t('customers.export.labels'), value: 'ja',
      options: [{ value: 'ja', label: t('customers.export.labels_ja') }, { value: 'en', label: t('customers.export.labels_en') }, { value: 'keys', label: t('customers.export.labels_keys') }] },
    { name: 'values', type: 'select', label: t('customers.export.values'), value: 'display',
      options: [{ value: 'display', label: t('customers.export.values_display') }, { value: 'stored', label: t('customers.export.values_stored') }] },
    { name: 'background', type: 'checkbox', label: t('customers.export.background'), testId: 'export-background',
      help: t('customers.export.background_help', { count: count(EXPORT_JOB_FROM) }), value: n > EXPORT_JOB_FROM },
  ];
  let refused = null;
  let chosen = null;
  const done = await formDialog({
    title: t('customers.export.title'),
    intro: sel ? t('customers.export.intro_selected', { count: count(n) }) : t('customers.export.intro', { count: count(n) }),
    testId: 'export-dialog',
    submitLabel: t('customers.export.download'),
    submitTestId: 'export-download',
    fields,
    onSubmit: async (values) => {
      chosen = values;
      if (values.background) return { job: await api.post(`${list.base}/exports`, exportBody(list, sel, values)) };
      try {
        return await download(exportUrl(list, sel, values));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'cp932_gaps') {
          refused = err;
          return { refused: true };
        }
        throw err;
      }
    },
  });
  if (!done) return;
  if (done.job) {
    const { state } = await exportJobDialog(list, done.job);
    if (state.state !== 'refused') return;
    const gaps = {
      detail: String(state.gap_count),
      errors: state.gaps.map((g) => ({ field: `records.${g.record_id}.${g.field}`, params: g })),
    };
    if (!(await gapsDialog(list, gaps, t('customers.export.replace_prepare')))) return;
    try {
      await exportJobDialog(list, await api.post(`${list.base}/exports`, exportBody(list, sel, chosen, true)));
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
    return;
  }
  if (refused) {
    if (!(await gapsDialog(list, refused))) return;
    try {
      const again = await download(exportUrl(list, sel, chosen, true));
      toast(t('customers.export.done', { name: again.name }), { type: 'success' });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
    return;
  }
  toast(t('customers.export.done', { name: done.name }), { type: 'success' });
}
