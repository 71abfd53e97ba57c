// Likely duplicates of a table (#/customers/<table>/duplicates): groups of records sharing a
// normalised e-mail, a phone number or a name at the same company (GET …/duplicates, paged by
// cursor), each with its score and reasons; "merge" opens the merge dialog (customers/merge.js)
// with the group's records. `?reason=email|phone|name_company` shows one kind.

import { html, signal, useConst, useEffect } from '../lib.js';
import { api, ApiError, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { EmptyState, Notice, Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { badge } from '../ui/cells.js';
import { FilterSelect, Toolbar } from '../ui/toolbar.js';
import { toast } from '../ui/toast.js';
import { displayValue } from '../customers/display.js';
import { openMerge, reasonLabel, scoreTone } from '../customers/merge.js';
import { findField, fieldLabel, loadDesigns, loadReferenceLabels, recordLabel, tableLabel } from '../customers/design.js';

const REASONS = ['email', 'phone', 'name_company'];
const PER_PAGE = 20;

export async function load(ctx) {
  const designs = await loadDesigns({ signal: ctx.signal });
  const design = designs.get(ctx.params.table);
  if (!design) throw new ApiError(404, { code: 'table_not_found' });
  return { designs, design };
}

function createDuplicates(ctx, data) {
  const groups = signal(null); // null: loading the first page
  const next = signal(null);
  const error = signal(null);
  const busy = signal(false);
  const rule = signal(null);
  const refs = signal(new Map());
  const reason = signal(REASONS.includes(ctx.query.reason) ? ctx.query.reason : '');
  const base = `/api/customers/tables/${encodeURIComponent(data.design.key)}`;

  async function fetchPage({ more = false } = {}) {
    busy.value = true;
    error.value = null;
    try {
      const page = await api.get(`${base}/duplicates`, {
        per_page: PER_PAGE, reason: reason.value || null, cursor: more ? next.value : null,
      }, { signal: ctx.signal }); // prettier-ignore
      const records = page.items.flatMap((g) => g.records);
      const found = await loadReferenceLabels(data.designs, data.design, records, { signal: ctx.signal });
      refs.value = new Map([...refs.value, ...found]);
      groups.value = [...(more ? groups.value || [] : []), ...page.items];
      next.value = page.next_cursor;
      rule.value = page.rule;
    } catch (err) {
      if (!isAbort(err)) error.value = err;
    } finally {
      busy.value = false;
    }
  }

  function setReason(value) {
    reason.value = value;
    ctx.setQuery({ reason: value || null });
    groups.value = null;
    fetchPage();
  }

  async function merge(group) {
    // Fresh copies: the versions the merge is checked against are the ones shown.
    let records;
    try {
      records = await Promise.all(group.records.map((r) => api.get(`${base}/records/${r.id}`, null, { signal: ctx.signal })));
    } catch (err) {
      if (!isAbort(err)) toast(errorText(err), { type: 'error' });
      return;
    }
    const result = await openMerge({ designs: data.designs, design: data.design, records, refs: refs.value });
    if (!result) return;
    toast(t('customers.merge.done', { name: recordLabel(data.design, result.record), count: result.merged.length }), { type: 'success' });
    groups.value = null;
    fetchPage();
  }

  return { groups, next, error, busy, rule, refs, reason, fetchPage, setReason, merge };
}

/** The fields a group is compared on, for its small table. */
function shownFields(design, rule) {
  const keys = [...(rule?.email_fields || []), ...(rule?.phone_fields || []), rule?.name_field, rule?.company_field];
  return [...new Set(keys.filter(Boolean))].map((k) => findField(design, k)).filter(Boolean);
}

function GroupCard({ group, list, data, canMerge }) {
  const fields = shownFields(data.design, list.rule.value);
  const key = encodeURIComponent(data.design.key);
  return html`<section class="card dup-group" data-testid="duplicate-group">
    <div class="dup-group__head">
      ${badge(t('customers.duplicates.score', { score: group.score }), scoreTone(group.score))}
      ${group.reasons.map((r) => html`<span key=${r}>${badge(reasonLabel(r), 'neutral')}</span>`)}
      <span class="muted">${t('customers.duplicates.count', { count: fmt.number(group.count) })}</span>
      <span class="pager__spacer"></span>
      ${canMerge && html`<${Button} label=${t('customers.duplicates.merge')} size="sm" variant="primary" testId="duplicate-merge"
        onClick=${() => list.merge(group)} />`}
    </div>
    <div class="table-scroll">
      <table class="table table--compact">
        <thead><tr>
          <th scope="col">${t('customers.list.col.id')}</th>
          <th scope="col">${t('customers.duplicates.record')}</th>
          ${fields.map((f) => html`<th scope="col" key=${f.key}>${fieldLabel(f)}</th>`)}
        </tr></thead>
        <tbody>
          ${group.records.map((r) => html`<tr key=${r.id}>
            <td class="muted">${r.id}</td>
            <td class="cell--strong"><a href=${`#/customers/${key}/${encodeURIComponent(r.id)}`}>${recordLabel(data.design, r)}</a></td>
            ${fields.map((f) => html`<td key=${f.key}>${displayValue(f, r.values[f.key], { refs: list.refs.value, compact: true }) ?? html`<span class="muted">${fmt.EMPTY}</span>`}</td>`)}
          </tr>`)}
        </tbody>
      </table>
    </div>
  </section>`;
}

function RuleNote({ rule, design }) {
  if (!rule) return null;
  const name = (k) => (k ? fieldLabel(findField(design, k) || { key: k }) : null);
  const parts = [
    rule.email_fields.length && t('customers.duplicates.rule.email', { fields: rule.email_fields.map(name).join(', ') }),
    rule.phone_fields.length && t('customers.duplicates.rule.phone', { fields: rule.phone_fields.map(name).join(', ') }),
    rule.name_field && rule.company_field
      ? t('customers.duplicates.rule.name_company', { name: name(rule.name_field), company: name(rule.company_field) })
      : t('customers.duplicates.rule.no_name'),
    rule.name_field_set || rule.company_field_set ? t('customers.duplicates.rule.set') : t('customers.duplicates.rule.automatic'),
  ].filter(Boolean);
  return html`<p class="muted dup-rule" data-testid="duplicate-rule">${parts.join(' ')}</p>`;
}

export default function CustomerDuplicatesView({ ctx, data }) {
  const list = useConst(() => createDuplicates(ctx, data));
  useEffect(() => {
    list.fetchPage();
  }, []);
  const { design } = data;
  const key = encodeURIComponent(design.key);
  const canMerge = can('customers:write');
  const groups = list.groups.value;
  const options = REASONS.map((r) => ({ value: r, label: reasonLabel(r) }));

  let content;
  if (list.error.value && groups === null) {
    content = html`<${Notice} tone="danger" message=${errorText(list.error.value)}>
      <div class="notice__actions"><${Button} label=${t('common.retry')} size="sm" onClick=${() => list.fetchPage()} /></div>
    <//>`;
  } else if (groups === null) {
    content = html`<div class="table__loading"><span class="spinner"></span>${t('common.loading')}</div>`;
  } else if (!groups.length) {
    content = html`<${EmptyState} icon="check" title=${t('customers.duplicates.none_title')} message=${t('customers.duplicates.none')} />`;
  } else {
    content = html`<div class="stack">
      ${groups.map((g) => html`<${GroupCard} key=${g.records.map((r) => r.id).join('-')} group=${g} list=${list} data=${data} canMerge=${canMerge} />`)}
      ${list.next.value && html`<div class="history__more">
        <${Button} label=${t('customers.duplicates.more')} size="sm" busy=${list.busy.value} testId="duplicates-more" onClick=${() => list.fetchPage({ more: true })} />
      </div>`}
    </div>`;
  }

  return html`<${Page}
    title=${t('customers.duplicates.title', { table: tableLabel(design) })}
    back=${{ href: `#/customers/${key}`, label: tableLabel(design) }}
    toolbar=${html`<${Toolbar}>
      <${FilterSelect} label=${t('customers.duplicates.reason')} value=${list.reason.value} options=${options}
        allLabel=${t('customers.duplicates.all_reasons')} onChange=${list.setReason} />
    <//>`}
  >
    <div class="stack">
      <${RuleNote} rule=${list.rule.value} design=${design} />
      ${content}
    </div>
  <//>`;
}
