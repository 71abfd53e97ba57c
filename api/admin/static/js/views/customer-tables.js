// The customer database (#/customers?retired=1): every staff-designed table with its fields and
// records counted; designers create tables here (then go on to the designer) and restore retired
// ones. A row opens the table's records (#/customers/<key>).

import { html, useConst } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import * as fmt from '../format.js';
import { Page, EmptyState } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { Toolbar } from '../ui/toolbar.js';
import { badge, twoLines } from '../ui/cells.js';
import { formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { errorText } from '../errors.js';
import { forgetDesign, recordFields, tableLabel } from '../customers/fields.js';

const tablePath = (key) => `/customers/${encodeURIComponent(key)}`;

/** Each table's record count: the list's estimated total (exact up to 10,000). */
async function withCounts(tables, signal) {
  return Promise.all(
    tables.map(async (table) => {
      if (table.retired) return { ...table, count: null };
      try {
        const page = await api.get(`/api/customers/tables/${encodeURIComponent(table.key)}/records`, { per_page: 1 }, { signal });
        return { ...table, count: page.total, countExact: page.total_exact !== false };
      } catch {
        return { ...table, count: null };
      }
    }),
  );
}

function countText(row) {
  if (row.count == null) return fmt.EMPTY;
  return row.countExact ? fmt.number(row.count) : t('customers.tables.count_about', { count: fmt.number(row.count) });
}

/** The "new table" dialog; resolves with the created design or null. */
export function openCreateTable() {
  return formDialog({
    title: t('customers.tables.create_title'),
    intro: t('customers.tables.create_intro'),
    testId: 'customer-table-create',
    fields: [
      { name: 'label_ja', type: 'text', label: t('customers.tables.field.label_ja'), required: true, maxlength: 200, placeholder: t('customers.tables.field.label_ja_placeholder') },
      { name: 'label_en', type: 'text', label: t('customers.tables.field.label_en'), maxlength: 200, placeholder: t('customers.tables.field.label_en_placeholder') },
      { name: 'key', type: 'text', label: t('customers.tables.field.key'), required: true, maxlength: 30, autocomplete: 'off', inputmode: 'latin', help: t('customers.design.key_rule'), placeholder: 'customers' },
    ],
    submitLabel: t('customers.tables.create'),
    submitTestId: 'customer-table-create-submit',
    errorFieldByCode: { key_taken: 'key' },
    onSubmit: async (v) => {
      const label = { ja: v.label_ja };
      if (v.label_en) label.en = v.label_en;
      try {
        return await api.post('/api/customers/tables', { key: v.key, label });
      } catch (err) {
        for (const e of err.errors || []) e.field = String(e.field || '').replace(/^label\.(ja|en)$/, 'label_$1');
        throw err;
      }
    },
  });
}

export default function CustomerTablesView({ ctx }) {
  const canDesign = can('customers:design');
  const filters = useConst(() => ({ retired: ctx.query.retired === '1' }));
  const table = useConst(() =>
    createTable({
      load: async ({ signal }) => {
        const tables = await api.get('/api/customers/tables', { retired: filters.retired ? 'true' : null }, { signal });
        const items = await withCounts(tables, signal);
        return { items, total: items.length, page: 1, per_page: 100 };
      },
      perPage: 100,
      signal: ctx.signal,
    }),
  );

  async function create() {
    const created = await openCreateTable();
    if (created) {
      toast(t('customers.tables.created', { name: tableLabel(created) }), { type: 'success' });
      ctx.navigate(`${tablePath(created.key)}/design`);
    }
  }

  async function restore(row) {
    try {
      await api.post(`/api/customers/tables/${encodeURIComponent(row.key)}/restore`, {});
      forgetDesign(row.key);
      toast(t('customers.tables.restored', { name: tableLabel(row) }), { type: 'success' });
      table.reload();
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  function toggleRetired() {
    filters.retired = !filters.retired;
    ctx.setQuery({ retired: filters.retired ? '1' : null });
    table.reload();
  }

  const columns = [
    {
      key: 'label',
      label: t('customers.tables.col.table'),
      render: (r) => html`<div class="cell-with-badge">${twoLines(tableLabel(r), r.key)}
        ${r.is_member_table && badge(t('customers.tables.member_table'), 'accent')}
        ${r.retired && badge(t('customers.tables.retired'), 'neutral')}</div>`,
    },
    { key: 'count', label: t('customers.tables.col.records'), align: 'end', nowrap: true, render: countText },
    { key: 'fields', label: t('customers.tables.col.fields'), align: 'end', nowrap: true, className: 'cell--wide-only', render: (r) => fmt.number(recordFields(r).length) },
    {
      key: 'statuses',
      label: t('customers.tables.col.statuses'),
      render: (r) => ((r.statuses || []).filter((s) => !s.retired).length ? fmt.number((r.statuses || []).filter((s) => !s.retired).length) : fmt.EMPTY),
      align: 'end',
      nowrap: true,
      className: 'cell--wide-only',
    },
    { key: 'owner_only', label: t('customers.tables.col.owner_only'), nowrap: true, className: 'cell--wide-only', render: (r) => (r.owner_only ? badge(t('customers.tables.owner_only'), 'info') : fmt.EMPTY) },
    {
      key: 'actions',
      label: t('common.actions'),
      hideLabel: true,
      nowrap: true,
      render: (r) => html`<div class="row-actions row-actions--compact">
        ${r.retired
          ? canDesign && html`<${Button} size="sm" label=${t('customers.tables.restore')} onClick=${(e) => { e.stopPropagation(); restore(r); }} />`
          : html`
            ${can('customers:write') && html`<${Button} size="sm" icon="plus" label=${t('customers.tables.new_record')} title=${t('customers.tables.new_record')}
              onClick=${(e) => { e.stopPropagation(); ctx.navigate(`${tablePath(r.key)}/new`); }} />`}
            ${can('customers:write') && html`<${Button} size="sm" icon="upload" label=${t('customers.tables.import')} title=${t('customers.tables.import')} testId=${`import-${r.key}`}
              onClick=${(e) => { e.stopPropagation(); ctx.navigate(`${tablePath(r.key)}/import`); }} />`}
            ${canDesign && html`<${Button} size="sm" icon="edit" label=${t('customers.tables.design')} title=${t('customers.tables.design')} testId=${`design-${r.key}`}
              onClick=${(e) => { e.stopPropagation(); ctx.navigate(`${tablePath(r.key)}/design`); }} />`}`}
      </div>`,
    },
  ];

  const empty = () =>
    filters.retired
      ? t('customers.tables.empty_retired')
      : html`<${EmptyState} icon="database" title=${t('customers.tables.empty_title')}
          message=${canDesign ? t('customers.tables.empty_design') : t('customers.tables.empty')}
          action=${canDesign && html`<${Button} label=${t('customers.tables.create')} icon="plus" variant="primary" onClick=${create} />`} />`;

  return html`<${Page}
    title=${t('nav.customers')}
    subtitle=${t('customers.tables.subtitle')}
    fill
    actions=${[canDesign && html`<${Button} label=${t('customers.tables.create')} icon="plus" variant="primary" onClick=${create} testId="customer-table-add" />`]}
    toolbar=${canDesign &&
    html`<${Toolbar}>
      <label class="field__check toolbar__check">
        <input type="checkbox" class="checkbox" checked=${filters.retired} onChange=${toggleRetired} />
        <span>${t('customers.tables.show_retired')}</span>
      </label>
    <//>`}
  >
    <${DataTable}
      table=${table}
      label=${t('nav.customers')}
      columns=${columns}
      onRowClick=${(r) => (r.retired ? null : ctx.navigate(tablePath(r.key)))}
      rowClass=${(r) => (r.retired ? 'row--inactive' : null)}
      empty=${empty}
    />
  <//>`;
}
