// A table's records (#/customers/<table>): columns from the fields "shown in lists" (or the
// view's), a column chooser, sorting by a click on a header, the filter builder (nested AND/OR),
// a search box (q=), saved views (private, shared, the table's default), keyset paging with an
// estimated total. A row opens the record (#/customers/<table>/<id>). The model is
// customers/records-list.js.

import { html, cx, useConst, useEffect, useRef } from '../lib.js';
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { errorText } from '../errors.js';
import { EmptyState, Page } from '../ui/page.js';
import { Button, LinkButton } from '../ui/button.js';
import { ColumnChooser, DataTable } from '../ui/table.js';
import { SearchBox, Toolbar } from '../ui/toolbar.js';
import { badge, time } from '../ui/cells.js';
import { confirm, formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { Icon } from '../ui/icons.js';
import { countConditions, FilterBuilder } from '../ui/filter-builder.js';
import { displayValue } from '../customers/display.js';
import { activeFields, fieldLabel, labelField, loadDesigns, loadOwners, ownerName, statusLabel, statusTone, tableLabel } from '../customers/design.js';
import { createRecordsList, systemColumns } from '../customers/records-list.js';
import { BulkBar, createSelection, exportDialog, selectColumn } from '../customers/bulk.js';
import { can } from '../session.js';

export async function load(ctx) {
  const key = ctx.params.table;
  const [designs, views, owners] = await Promise.all([
    loadDesigns({ signal: ctx.signal }),
    api.get(`/api/customers/tables/${encodeURIComponent(key)}/views`, null, { signal: ctx.signal }),
    loadOwners(key, { signal: ctx.signal }),
  ]);
  const design = designs.get(key);
  if (!design) throw new ApiError(404, { code: 'table_not_found' });
  return { designs, design, views, owners };
}

/** Every column the list can show, with its cell. */
function allColumns(list) {
  const { design, refs, owners } = list;
  const named = labelField(design)?.key;
  const fields = activeFields(design).map((f) => ({
    key: f.key,
    label: fieldLabel(f),
    sortable: f.type !== 'multi_select',
    nowrap: f.type !== 'long_text', // the table scrolls sideways
    align: ['integer', 'decimal'].includes(f.type) ? 'end' : undefined,
    className: cx(f.key === named && 'cell--strong', f.type === 'long_text' && 'cell--clip'),
    render: (r) => displayValue(f, r.values[f.key], { refs: refs.value, compact: true }),
  }));
  const system = systemColumns(design).map((c) => ({ ...c, sortable: true, nowrap: true }));
  for (const c of system) {
    if (c.key === 'status') c.render = (r) => (r.status ? badge(statusLabel(design, r.status), statusTone(design, r.status)) : null);
    else if (c.key === 'owner_id') c.render = (r) => ownerName(owners, r.owner_id) || null;
    else if (c.key === 'id') {
      c.align = 'end';
      c.render = (r) => html`<span class="muted">${r.id}</span>`;
    } else c.render = (r) => time(r[c.key]);
  }
  return [...fields, ...system];
}

/** A small menu under a button (the view actions). */
function Menu({ label, icon, children, testId }) {
  const ref = useRef(null);
  useEffect(() => {
    const close = (e) => {
      const el = ref.current;
      if (!el?.open) return;
      if (e.type === 'keydown' ? e.key === 'Escape' : !el.contains(e.target) || e.target.closest('.menu__item')) {
        el.open = false;
        if (e.type === 'keydown') el.querySelector('summary')?.focus();
      }
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);
  return html`<details class="menu" ref=${ref} data-testid=${testId}>
    <summary class="btn btn--ghost btn--sm">${icon && html`<${Icon} name=${icon} size=${16} />`}<span class="btn__label">${label}</span></summary>
    <div class="menu__list" role="group" aria-label=${label}>${children}</div>
  </details>`;
}

function MenuItem({ label, onClick, danger, disabled, testId }) {
  return html`<button type="button" class=${cx('menu__item', danger && 'menu__item--danger')} disabled=${disabled} data-testid=${testId} onClick=${onClick}>${label}</button>`;
}

function viewOptionLabel(v) {
  if (v.is_default) return t('customers.views.option_default', { name: v.name });
  return v.shared ? t('customers.views.option_shared', { name: v.name }) : t('customers.views.option_private', { name: v.name });
}

function ViewPicker({ list }) {
  const views = list.views.value;
  const id = list.viewId.value;
  return html`<div class="filter records-view">
    <label class="filter__label" for="records-view">${t('customers.views.label')}</label>
    <div class="records-view__row">
      <select id="records-view" class="input filter__select" data-testid="view-picker" value=${id == null ? '' : String(id)} onChange=${(e) => list.selectView(e.currentTarget.value)}>
        <option value="">${t('customers.views.none')}</option>
        ${views.map((v) => html`<option value=${String(v.id)} key=${v.id}>${viewOptionLabel(v)}</option>`)}
      </select>
      ${list.currentView.value && list.dirty.value && html`<span class="records-view__dirty" title=${t('customers.views.changed_help')}>${t('customers.views.changed')}</span>`}
    </div>
  </div>`;
}

function ViewActions({ list }) {
  const v = list.currentView.value;
  const mine = list.mayChange(v);

  async function saveAs() {
    const saved = await formDialog({
      title: t('customers.views.save_title'),
      testId: 'view-save',
      intro: t('customers.views.save_intro'),
      submitLabel: t('customers.views.save'),
      fields: [
        { name: 'name', type: 'text', label: t('customers.views.name'), required: true, maxlength: 200, autofocus: true },
        { name: 'shared', type: 'checkbox', label: t('customers.views.shared'), help: t('customers.views.shared_help') },
        list.canDesign && { name: 'is_default', type: 'checkbox', label: t('customers.views.is_default'), help: t('customers.views.is_default_help') },
      ].filter(Boolean),
      onSubmit: (values) => api.post(`${list.base}/views`, { ...values, ...list.current() }),
    });
    if (!saved) return;
    await list.refreshViews(saved.id);
    toast(t('customers.views.saved', { name: saved.name }), { type: 'success' });
  }

  async function update() {
    try {
      await api.patch(`${list.base}/views/${v.id}`, list.current());
      await list.refreshViews(v.id);
      toast(t('customers.views.updated', { name: v.name }), { type: 'success' });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  async function rename() {
    const saved = await formDialog({
      title: t('customers.views.rename_title'),
      submitLabel: t('common.save'),
      fields: [
        { name: 'name', type: 'text', label: t('customers.views.name'), required: true, maxlength: 200, value: v.name },
        { name: 'shared', type: 'checkbox', label: t('customers.views.shared'), help: t('customers.views.shared_help'), value: v.shared, disabled: v.is_default },
      ],
      onSubmit: (values) => api.patch(`${list.base}/views/${v.id}`, v.is_default ? { name: values.name } : values),
    });
    if (saved) await list.refreshViews(v.id);
  }

  async function remove() {
    const ok = await confirm({
      title: t('customers.views.delete_title'),
      message: t('customers.views.delete_message', { name: v.name }),
      confirmLabel: t('customers.views.delete'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`${list.base}/views/${v.id}`);
      toast(t('customers.views.deleted', { name: v.name }), { type: 'success' });
      await list.refreshViews();
      list.selectView('');
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  async function setDefault(on) {
    try {
      await api.patch(`${list.base}/views/${v.id}`, { is_default: on });
      await list.refreshViews(v.id);
      toast(on ? t('customers.views.default_set', { name: v.name }) : t('customers.views.default_unset', { name: v.name }), { type: 'success' });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  if (!list.canWrite) return null;
  return html`<${Menu} label=${t('customers.views.menu')} icon="layers" testId="view-menu">
    <${MenuItem} label=${t('customers.views.save_new')} onClick=${saveAs} testId="view-save-new" />
    ${v && mine && html`<${MenuItem} label=${t('customers.views.update', { name: v.name })} disabled=${!list.dirty.value} onClick=${update} testId="view-update" />`}
    ${v && mine && html`<${MenuItem} label=${t('customers.views.rename')} onClick=${rename} />`}
    ${v && list.canDesign && !v.is_default && html`<${MenuItem} label=${t('customers.views.make_default')} onClick=${() => setDefault(true)} testId="view-default" />`}
    ${v && list.canDesign && v.is_default && html`<${MenuItem} label=${t('customers.views.unset_default')} onClick=${() => setDefault(false)} />`}
    ${v && mine && html`<${MenuItem} label=${t('customers.views.delete')} danger onClick=${remove} testId="view-delete" />`}
  <//>`;
}

function FilterPanel({ list }) {
  if (!list.filterOpen.value) return null;
  const apply = () => {
    if (list.applyFilter()) list.filterOpen.value = false;
  };
  return html`<section class="card filter-panel" aria-label=${t('customers.filter.title')}>
    <div class="filter-panel__head">
      <h2 class="subheading">${t('customers.filter.title')}</h2>
      <p class="muted filter-panel__help">${t('customers.filter.help')}</p>
    </div>
    <${FilterBuilder} builder=${list.builder} />
    <div class="filter-panel__actions">
      <${Button} label=${t('customers.filter.clear')} variant="ghost" onClick=${() => list.clearFilter()} />
      <span class="pager__spacer"></span>
      <${Button} label=${t('common.close')} onClick=${() => (list.filterOpen.value = false)} />
      <${Button} label=${t('customers.filter.apply')} variant="primary" testId="filter-apply" onClick=${apply} />
    </div>
  </section>`;
}

export default function CustomerRecordsView({ ctx, data }) {
  const list = useConst(() => createRecordsList(ctx, data));
  const sel = useConst(() => createSelection(list));
  const { design, table } = list;
  const columns = allColumns(list);
  const canExport = can('customers:export');
  const selectable = list.canWrite || canExport;
  const picked = columns.filter((c) => list.columns.value.includes(c.key));
  const shown = selectable && picked.length ? [selectColumn(sel), ...picked] : picked;
  // A new filter or search is a new set: what was selected in the old one is let go.
  useEffect(() => sel.clear(), [list.where.value, list.search.value]);
  const count = countConditions(list.where.value); // applied, not the draft in the builder
  const filtered = list.where.value != null;
  const newHref = `#/customers/${encodeURIComponent(list.tableKey)}/new`;

  const empty = () =>
    list.isFiltered()
      ? html`<${EmptyState} icon="search" title=${t('customers.list.empty_filtered')} message=${t('customers.list.empty_filtered_help')}
          action=${filtered && html`<${Button} label=${t('customers.filter.clear')} size="sm" onClick=${() => list.clearFilter()} />`} />`
      : html`<${EmptyState} icon="users" title=${t('customers.list.empty', { table: tableLabel(design) })} message=${list.canWrite ? t('customers.list.empty_help') : null}
          action=${list.canWrite && html`<${LinkButton} href=${newHref} label=${t('customers.list.new')} icon="plus" variant="primary" />`} />`;

  return html`<${Page}
    title=${tableLabel(design)}
    back=${{ href: '#/customers', label: t('customers.list.all_tables') }}
    fill
    actions=${[
      html`<${LinkButton} href=${`#/customers/${encodeURIComponent(list.tableKey)}/duplicates`} label=${t('customers.duplicates.open')} icon="copy" variant="ghost" />`,
      list.canDesign && html`<${LinkButton} href=${`#/customers/${encodeURIComponent(list.tableKey)}/design`} label=${t('customers.list.design')} icon="sliders" variant="ghost" />`,
      list.canWrite && html`<${LinkButton} href=${`#/customers/${encodeURIComponent(list.tableKey)}/import`} label=${t('customers.list.import')} icon="upload" variant="ghost" />`,
      canExport && html`<${Button} label=${t('customers.export.button')} icon="download" variant="ghost" testId="export-open" onClick=${() => exportDialog(list)} />`,
      list.canWrite && html`<${LinkButton} href=${newHref} label=${t('customers.list.new')} icon="plus" variant="primary" />`,
    ]}
    toolbar=${html`<${Toolbar}>
      <${SearchBox} value=${list.search.value} placeholder=${t('customers.list.search')} label=${t('customers.list.search_label')} onSearch=${list.setSearch} />
      <${ViewPicker} list=${list} />
      <div class="records-tools">
        <${Button} label=${count ? t('customers.filter.button_count', { count }) : t('customers.filter.button')} icon="search" size="sm"
          variant=${filtered ? 'secondary' : 'ghost'} aria-expanded=${String(list.filterOpen.value)} testId="filter-toggle"
          onClick=${() => (list.filterOpen.value = !list.filterOpen.value)} />
        <${ViewActions} list=${list} />
        <${ColumnChooser} chooser=${list.chooser} columns=${columns} />
      </div>
    <//>`}
  >
    <${FilterPanel} list=${list} />
    <${BulkBar} list=${list} sel=${sel} />
    <${DataTable}
      table=${table}
      label=${tableLabel(design)}
      columns=${shown.length ? shown : columns.slice(0, 1)}
      sort=${list.sort.value || null}
      onSort=${list.toggleSort}
      onRowClick=${(r) => ctx.navigate(`/customers/${encodeURIComponent(list.tableKey)}/${encodeURIComponent(r.id)}`)}
      empty=${empty}
    />
  <//>`;
}
