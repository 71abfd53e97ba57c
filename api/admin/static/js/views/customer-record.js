// One record (#/customers/<table>/<id>): its label, status and owner; edit and delete; tabs for
// its values (every active field, with help texts), for each table that refers to it (GET
// …/related: the newest rows, the total, "add a related row", the full filtered list), and its
// history as a timeline.

import { html, signal, useConst, useEffect } from '../lib.js';
import { api, ApiError, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { can, session } from '../session.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button, LinkButton } from '../ui/button.js';
import { badge, time } from '../ui/cells.js';
import { alert, confirm } from '../ui/dialog.js';
import { Tabs } from '../ui/tabs.js';
import { toast } from '../ui/toast.js';
import { displayValue } from '../customers/display.js';
import { HistoryTimeline } from '../customers/history.js';
import { openMerge, reasonLabel } from '../customers/merge.js';
import { editRecordGroups, groupLabel } from '../groups/groups.js';
import { MemberLoginPanel } from '../members/login-panel.js';
import {
  activeFields, fieldLabel, helpText, labelField, listFields, loadDesigns, loadOwners, loadReferenceLabels,
  ownerName, recordLabel, refKey, statusLabel, statusTone, tableLabel,
} from '../customers/design.js'; // prettier-ignore

const HISTORY_PAGE = 50; // entries a request; "older changes" asks for the next ones

export async function load(ctx) {
  const { table, id } = ctx.params;
  if (!/^\d{1,19}$/.test(id)) throw new ApiError(404, { code: 'record_not_found' });
  const base = `/api/customers/tables/${encodeURIComponent(table)}/records/${id}`;
  const [designs, record, related, owners, duplicates] = await Promise.all([
    loadDesigns({ signal: ctx.signal }),
    api.get(base, null, { signal: ctx.signal }),
    api.get(`${base}/related`, null, { signal: ctx.signal }),
    loadOwners(table, { signal: ctx.signal }),
    possibleDuplicates(base, ctx.signal),
  ]);
  const design = designs.get(table);
  if (!design) throw new ApiError(404, { code: 'table_not_found' });
  // The labels of what this record and its related rows refer to.
  const refs = new Map();
  const lookups = [loadReferenceLabels(designs, design, [record], { signal: ctx.signal })];
  for (const tab of related) {
    const other = designs.get(tab.table);
    if (other) lookups.push(loadReferenceLabels(designs, other, tab.items, { signal: ctx.signal }));
  }
  for (const found of await Promise.all(lookups)) for (const [k, v] of found) refs.set(k, v);
  refs.set(refKey(table, record.id), recordLabel(design, record));
  return { designs, design, record, related, owners, refs, base, duplicates };
}

/** "Possible duplicates" of the record (GET …/duplicates); none if the look-up fails. */
async function possibleDuplicates(base, signal) {
  try {
    return await api.get(`${base}/duplicates`, null, { signal });
  } catch (err) {
    if (isAbort(err)) throw err;
    return [];
  }
}

function createRecordPage(ctx, data) {
  const history = signal(null); // null: not loaded yet
  const historyError = signal(null);
  const historyRefs = signal(data.refs);
  const historyMore = signal(false); // older entries may follow
  const historyBusy = signal(false);

  /** The newest entries, or (more) the ones older than those shown. */
  async function loadHistory({ more = false } = {}) {
    historyError.value = null;
    historyBusy.value = true;
    try {
      const shown = more ? history.value || [] : [];
      const before = shown.length ? shown[shown.length - 1].id : null;
      const entries = await api.get(`${data.base}/history`, { per_page: HISTORY_PAGE, before }, { signal: ctx.signal });
      // The records that changed references pointed at, before and after.
      const extra = [];
      for (const e of entries) {
        for (const [key, change] of Object.entries(e.changes || {})) {
          const field = activeFields(data.design).find((f) => f.key === key && f.type === 'reference');
          if (!field) continue;
          for (const v of [change?.before, change?.after]) if (v != null) extra.push([field.references, v]);
        }
      }
      if (extra.length) {
        const found = await loadReferenceLabels(data.designs, data.design, [], { signal: ctx.signal, extra });
        historyRefs.value = new Map([...historyRefs.value, ...found]);
      }
      history.value = [...shown, ...entries];
      historyMore.value = entries.length === HISTORY_PAGE;
    } catch (err) {
      if (!isAbort(err)) historyError.value = err;
    } finally {
      historyBusy.value = false;
    }
  }

  async function remove() {
    const label = recordLabel(data.design, data.record);
    const ok = await confirm({
      title: t('customers.record.delete_title'),
      message: t('customers.record.delete_message', { name: label }),
      confirmLabel: t('customers.record.delete'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(data.base, { query: { version: data.record.version } });
      toast(t('customers.record.deleted', { name: label }), { type: 'success' });
      ctx.navigate(`/customers/${encodeURIComponent(data.design.key)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        await alert({ title: t('customers.record.delete_refused'), message: conflictText(err, data.designs) });
        if (err.code === 'record_changed') ctx.reload();
        return;
      }
      toast(errorText(err), { type: 'error' });
    }
  }

  /** Compare this record with its possible duplicates and merge them (customers/merge.js). */
  async function mergeDuplicates() {
    let records;
    try {
      const ids = [data.record.id, ...data.duplicates.map((d) => d.record.id)];
      const base = `/api/customers/tables/${encodeURIComponent(data.design.key)}/records`;
      records = await Promise.all(ids.map((id) => api.get(`${base}/${id}`, null, { signal: ctx.signal })));
    } catch (err) {
      if (!isAbort(err)) toast(errorText(err), { type: 'error' });
      return;
    }
    const result = await openMerge({ designs: data.designs, design: data.design, records, refs: data.refs });
    if (!result) return;
    toast(t('customers.merge.done', { name: recordLabel(data.design, result.record), count: result.merged.length }), { type: 'success' });
    if (result.record.id === data.record.id) ctx.reload();
    else ctx.navigate(`/customers/${encodeURIComponent(data.design.key)}/${result.record.id}?tab=history`);
  }

  return { history, historyError, historyRefs, historyMore, historyBusy, loadHistory, remove, mergeDuplicates };
}

/** A 409 in words: which tables refer to the record and how many, or what changed meanwhile. */
export function conflictText(err, designs) {
  if (err.code === 'record_in_use') {
    const users = [];
    for (const e of err.errors || []) {
      for (const m of String(e.message || '').matchAll(/([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*) \((\d+)\)/g)) {
        const other = designs.get(m[1]);
        const field = other?.fields.find((f) => f.key === m[2]);
        users.push(t('customers.record.in_use_item', {
          table: other ? tableLabel(other) : m[1], field: field ? fieldLabel(field) : m[2], count: fmt.number(Number(m[3])),
        })); // prettier-ignore
      }
    }
    if (users.length) return t('customers.record.in_use', { list: users.join(t('customers.record.list_separator')) });
  }
  if (err.code === 'record_changed') return t('customers.record.changed_meanwhile');
  return errorText(err);
}

function ValuesPanel({ data }) {
  const { design, record, refs } = data;
  const fields = activeFields(design);
  if (!fields.length) return html`<p class="muted panel-pad">${t('customers.record.no_fields')}</p>`;
  return html`<dl class="details record-values">
    ${fields.map((f) => {
      const value = displayValue(f, record.values[f.key], { refs });
      const help = helpText(f);
      return [
        html`<dt key=${`${f.key}-dt`} data-field=${f.key}>
          <span>${fieldLabel(f)}</span>
          ${help && html`<span class="record-values__help">${help}</span>`}
        </dt>`,
        html`<dd key=${`${f.key}-dd`}>${value == null ? html`<span class="muted">${fmt.EMPTY}</span>` : value}</dd>`,
      ];
    })}
  </dl>`;
}

function RelatedPanel({ ctx, data, tab }) {
  const other = data.designs.get(tab.table);
  const recordId = data.record.id;
  const addHref = `#/customers/${encodeURIComponent(tab.table)}/new?${encodeURIComponent(tab.field)}=${encodeURIComponent(recordId)}`;
  const allHref = `#/customers/${encodeURIComponent(tab.table)}?view=0&where=${encodeURIComponent(JSON.stringify({ and: [{ field: tab.field, op: 'eq', value: recordId }] }))}`;
  const named = other ? labelField(other)?.key : null;
  const columns = other ? listFields(other).filter((f) => f.key !== tab.field && f.key !== named).slice(0, 4) : [];
  const total = tab.total_exact ? t('customers.record.related.total', { count: fmt.number(tab.total) }) : t('customers.record.related.total_estimated', { count: fmt.number(tab.total) });
  const open = (r) => ctx.navigate(`/customers/${encodeURIComponent(tab.table)}/${encodeURIComponent(r.id)}`);
  return html`<div class="related" data-testid=${`related-${tab.table}-${tab.field}`}>
    <div class="related__bar">
      <span class="related__total">${total}${tab.total > tab.items.length ? html` <span class="muted">${t('customers.record.related.newest', { count: fmt.number(tab.items.length) })}</span>` : null}</span>
      <span class="pager__spacer"></span>
      ${tab.total > 0 && html`<${LinkButton} href=${allHref} label=${t('customers.record.related.all')} size="sm" variant="ghost" />`}
      ${can('customers:write') && html`<${LinkButton} href=${addHref} label=${t('customers.record.related.add')} icon="plus" size="sm" />`}
    </div>
    ${tab.items.length === 0
      ? html`<p class="muted panel-pad">${t('customers.record.related.none', { table: other ? tableLabel(other) : tab.table })}</p>`
      : html`<div class="table-scroll table-scroll--plain">
          <table class="table table--compact table--clickable">
            <thead><tr>
              <th scope="col">${named && other ? fieldLabel(other.fields.find((f) => f.key === named)) : t('customers.list.col.id')}</th>
              ${columns.map((f) => html`<th scope="col" key=${f.key}>${fieldLabel(f)}</th>`)}
              ${other?.statuses?.length > 0 && html`<th scope="col">${t('customers.list.col.status')}</th>`}
              <th scope="col">${t('customers.list.col.updated_at')}</th>
            </tr></thead>
            <tbody>
              ${tab.items.map((r) => html`<tr key=${r.id} tabindex="0" onClick=${() => open(r)}
                  onKeyDown=${(e) => { if (e.key === 'Enter') open(r); }}>
                <td class="cell--strong"><a href=${`#/customers/${encodeURIComponent(tab.table)}/${encodeURIComponent(r.id)}`}>${other ? recordLabel(other, r) : r.id}</a></td>
                ${columns.map((f) => html`<td key=${f.key}>${displayValue(f, r.values[f.key], { refs: data.refs, compact: true }) ?? html`<span class="muted">${fmt.EMPTY}</span>`}</td>`)}
                ${other?.statuses?.length > 0 && html`<td>${r.status ? badge(statusLabel(other, r.status), statusTone(other, r.status)) : null}</td>`}
                <td class="cell--nowrap">${time(r.updated_at)}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>`}
  </div>`;
}

function HistoryPanel({ page, data }) {
  useEffect(() => {
    if (page.history.value === null) page.loadHistory();
  }, []);
  const error = page.historyError.value;
  const entries = page.history.value;
  if (error && entries === null) {
    return html`<div class="panel-pad"><${Notice} tone="danger" message=${errorText(error)}>
      <div class="notice__actions"><${Button} label=${t('common.retry')} size="sm" onClick=${() => page.loadHistory()} /></div>
    <//></div>`;
  }
  if (entries === null) return html`<div class="table__loading"><span class="spinner"></span>${t('common.loading')}</div>`;
  return html`<div>
    <${HistoryTimeline} entries=${entries} design=${data.design} designs=${data.designs} owners=${data.owners} refs=${page.historyRefs.value} />
    ${error && html`<p class="field__error panel-pad" role="alert">${errorText(error)}</p>`}
    ${page.historyMore.value && html`<div class="history__more">
      <${Button} label=${t('customers.record.history.more')} size="sm" busy=${page.historyBusy.value} testId="history-more"
        onClick=${() => page.loadHistory({ more: true })} />
    </div>`}
  </div>`;
}

function PossibleDuplicates({ data, canWrite, onMerge }) {
  const key = encodeURIComponent(data.design.key);
  return html`<${Notice} tone="warning" testId="record-duplicates"
    title=${t('customers.duplicates.possible', { count: data.duplicates.length })}>
    <ul class="dup-list">
      ${data.duplicates.map((d) => html`<li key=${d.record.id}>
        <a href=${`#/customers/${key}/${encodeURIComponent(d.record.id)}`}>${recordLabel(data.design, d.record)}</a>
        <span class="muted"> #${d.record.id} · ${d.reasons.map(reasonLabel).join(' / ')} · ${t('customers.duplicates.score', { score: d.score })}</span>
      </li>`)}
    </ul>
    <div class="notice__actions">
      ${canWrite && html`<${Button} label=${t('customers.duplicates.compare')} size="sm" variant="primary" testId="record-duplicates-merge" onClick=${onMerge} />`}
      <${LinkButton} href=${`#/customers/${key}/duplicates`} label=${t('customers.duplicates.open')} size="sm" variant="ghost" />
    </div>
  <//>`;
}

/** The member's groups (member table only): badges linked to each group; "change" with groups:write. */
function RecordGroups({ record }) {
  const state = useConst(() => ({ groups: signal(null), error: signal(null) }));
  async function refresh() {
    try {
      state.groups.value = (await api.get(`/api/member-groups/${encodeURIComponent(record.id)}`)).groups;
    } catch (err) {
      if (!isAbort(err)) state.error.value = err;
    }
  }
  useEffect(() => {
    refresh();
  }, [record.id]);
  async function edit() {
    const saved = await editRecordGroups(record.id, state.groups.value || []);
    if (saved) {
      state.groups.value = saved.groups;
      toast(t('common.saved'), { type: 'success' });
    }
  }
  const groups = state.groups.value;
  return html`<div class="record-summary__item" data-testid="record-groups">
    <span class="record-summary__label">${t('groups.record.label')}</span>
    ${state.error.value
      ? html`<span class="muted">${errorText(state.error.value)}</span>`
      : groups === null
        ? html`<span class="muted">${t('common.loading')}</span>`
        : groups.length === 0
          ? html`<span class="muted">${t('groups.record.none')}</span>`
          : html`<span class="record-groups">${groups.map((g) => html`<a key=${g.key} href=${`#/groups/${encodeURIComponent(g.key)}`} class="record-groups__item">${badge(groupLabel(g), 'accent')}</a>`)}</span>`}
    ${can('groups:write') && groups !== null && html`<${Button} label=${t('groups.record.edit')} size="sm" variant="ghost" testId="record-groups-edit" onClick=${edit} />`}
  </div>`;
}

export default function CustomerRecordView({ ctx, data }) {
  const page = useConst(() => createRecordPage(ctx, data));
  const { design, record, owners } = data;
  const key = encodeURIComponent(design.key);
  const canWrite = can('customers:write') && (session.staff?.role !== 'sales' || record.owner_id === session.staff?.id);

  const tabs = [
    { id: 'values', label: t('customers.record.tab.values'), render: () => html`<${ValuesPanel} data=${data} />` },
    ...data.related.map((tab) => {
      const other = data.designs.get(tab.table);
      const several = data.related.filter((x) => x.table === tab.table).length > 1;
      const name = other ? tableLabel(other) : tab.table;
      const field = other?.fields.find((f) => f.key === tab.field);
      const label = several && field ? t('customers.record.related.tab_by', { table: name, field: fieldLabel(field) }) : name;
      return {
        id: `related-${tab.table}-${tab.field}`,
        label: html`<span>${label}</span> <span class="tabs__count">${fmt.number(tab.total)}</span>`,
        render: () => html`<${RelatedPanel} ctx=${ctx} data=${data} tab=${tab} />`,
      };
    }),
    { id: 'history', label: t('customers.record.tab.history'), render: () => html`<${HistoryPanel} page=${page} data=${data} />` },
  ];
  if (design.is_member_table && can('members:read')) {
    // The member's log-in: state, sessions, set a password, suspend (members/login-panel.js).
    tabs.splice(1, 0, { id: 'login', label: t('members.login.tab'), render: () => html`<${MemberLoginPanel} record=${record} />` });
  }

  return html`<${Page}
    title=${recordLabel(design, record)}
    back=${{ href: `#/customers/${key}`, label: tableLabel(design) }}
    actions=${[
      canWrite && html`<${Button} label=${t('customers.record.delete')} icon="trash" variant="danger-ghost" testId="record-delete" onClick=${page.remove} />`,
      canWrite && html`<${LinkButton} href=${`#/customers/${key}/${encodeURIComponent(record.id)}/edit`} label=${t('customers.record.edit')} variant="primary" />`,
    ]}
  >
    <div class="stack">
      <div class="card record-summary" data-testid="record-summary">
        ${record.status && html`<div class="record-summary__item">
          <span class="record-summary__label">${t('customers.list.col.status')}</span>
          ${badge(statusLabel(design, record.status), statusTone(design, record.status))}
        </div>`}
        <div class="record-summary__item">
          <span class="record-summary__label">${t('customers.list.col.owner')}</span>
          <span>${record.owner_id == null ? html`<span class="muted">${t('customers.record.no_owner')}</span>` : ownerName(owners, record.owner_id)}</span>
        </div>
        <div class="record-summary__item">
          <span class="record-summary__label">${t('common.created_at')}</span>${time(record.created_at)}
        </div>
        <div class="record-summary__item">
          <span class="record-summary__label">${t('customers.list.col.updated_at')}</span>${time(record.updated_at)}
        </div>
        <div class="record-summary__item">
          <span class="record-summary__label">${t('customers.list.col.id')}</span><span class="muted">${record.id}</span>
        </div>
        ${design.is_member_table && can('groups:read') && html`<${RecordGroups} record=${record} />`}
      </div>
      ${data.duplicates.length > 0 && html`<${PossibleDuplicates} data=${data} canWrite=${canWrite} onMerge=${page.mergeDuplicates} />`}
      <div class="card card--flush">
        <${Tabs} label=${t('customers.record.tabs')} selected=${ctx.query.tab || 'values'} items=${tabs}
          onChange=${(id) => ctx.setQuery({ tab: id === 'values' ? null : id })} />
      </div>
    </div>
  <//>`;
}
