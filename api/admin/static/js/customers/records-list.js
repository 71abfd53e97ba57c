// The model of a table's records list (views/customer-records.js): the filter, the search, the
// sort, the columns and the saved views, kept in the URL, and the table of records.
//
// URL: #/customers/<table>?view=<id>&q=&sort=-name&where=<json>&cols=name,email&cursor=
// A saved view is a preset: picking one puts its filter, columns and sort on the screen (the
// request sends them as where/sort, so they can be changed before saving again).

import { batch, computed, signal } from '../lib.js';
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { can, session } from '../session.js';
import { createTable } from '../ui/table.js';
import { createFilterBuilder } from '../ui/filter-builder.js';
import { choiceOptions } from './display.js';
import { activeFields, fieldLabel, labelOf, listFields, loadReferenceLabels, statuses, tableLabel } from './design.js';

/** The record's own columns a list can show, filter and sort by. */
export function systemColumns(design) {
  const cols = [];
  if (statuses(design).length) cols.push({ key: 'status', label: t('customers.list.col.status') });
  cols.push(
    { key: 'owner_id', label: t('customers.list.col.owner') },
    { key: 'created_at', label: t('common.created_at') },
    { key: 'updated_at', label: t('customers.list.col.updated_at') },
    { key: 'id', label: t('customers.list.col.id') },
  );
  return cols;
}

/** The columns of a list without a view: the fields shown in lists, the status and the owner. */
export function defaultColumns(design) {
  const keys = listFields(design).map((f) => f.key);
  if (statuses(design).length) keys.push('status');
  keys.push('owner_id');
  return keys;
}

/** What the filter builder offers: the fields, the record's own columns, and the fields of the
 * referenced tables ("company.name"). */
export function filterFields(design, designs, owners) {
  const own = tableLabel(design);
  const out = activeFields(design).map((f) => {
    const entry = { key: f.key, label: fieldLabel(f), type: f.type, group: own };
    if (f.type === 'select' || f.type === 'multi_select') entry.options = choiceOptions(f, { retired: true });
    return entry;
  });
  const system = t('customers.filter.group.record');
  if (statuses(design).length) {
    out.push({
      key: 'status', label: t('customers.list.col.status'), type: 'select', group: system,
      options: statuses(design).map((s) => ({ value: s.value, label: labelOf(s.label, s.value) })),
    }); // prettier-ignore
  }
  out.push({
    key: 'owner_id', label: t('customers.list.col.owner'), type: 'owner', group: system,
    ops: ['eq', 'ne', 'in', 'is_empty', 'not_empty'],
    options: [...(owners?.values() || [])].map((o) => ({ value: o.id, label: o.name })),
  }); // prettier-ignore
  out.push(
    { key: 'created_at', label: t('common.created_at'), type: 'datetime', group: system },
    { key: 'updated_at', label: t('customers.list.col.updated_at'), type: 'datetime', group: system },
    { key: 'id', label: t('customers.list.col.id'), type: 'integer', group: system },
  );
  for (const ref of activeFields(design).filter((f) => f.type === 'reference')) {
    const target = designs.get(ref.references);
    if (!target) continue;
    const group = t('customers.filter.group.reference', { field: fieldLabel(ref), table: tableLabel(target) });
    for (const f of activeFields(target)) {
      if (f.type === 'reference') continue; // one level: a field of the referenced record
      const entry = { key: `${ref.key}.${f.key}`, label: `${fieldLabel(ref)} › ${fieldLabel(f)}`, type: f.type, group };
      if (f.type === 'select' || f.type === 'multi_select') entry.options = choiceOptions(f, { retired: true });
      out.push(entry);
    }
  }
  return out;
}

function parseJson(text) {
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

const PAGE_CURSOR = /^p:(\d{1,6})$/;

export function createRecordsList(ctx, { designs, design, views: initialViews, owners }) {
  const tableKey = design.key;
  const base = `/api/customers/tables/${encodeURIComponent(tableKey)}`;
  const me = session.staff?.id ?? null;
  const canDesign = can('customers:design');
  const canWrite = can('customers:write');

  const views = signal(initialViews || []);
  const known = new Set([...activeFields(design).map((f) => f.key), ...systemColumns(design).map((c) => c.key)]);
  const clean = (keys) => (Array.isArray(keys) ? keys.filter((k) => known.has(k)) : null);

  // Where the screen starts: the URL, else the table's default view, else the plain list.
  const q = ctx.query;
  const fromUrl = q.where != null || q.sort != null || q.cols != null;
  let start = views.value.find((v) => String(v.id) === q.view) || null;
  if (!start && !fromUrl && q.view == null) start = views.value.find((v) => v.is_default) || null;
  const viewId = signal(start ? start.id : null);
  const where = signal(fromUrl ? parseJson(q.where) : start ? start.where : null);
  const sort = signal(fromUrl ? q.sort || '' : start ? start.sort || '' : '');
  const columns = signal(
    (fromUrl && q.cols ? clean(q.cols.split(',')) : null) || (start ? clean(start.columns) : null) || defaultColumns(design),
  );
  const search = signal(q.q || '');
  const refs = signal(new Map());
  const filterOpen = signal(false);

  const builder = createFilterBuilder({ fields: filterFields(design, designs, owners), where: where.value });

  const currentView = computed(() => views.value.find((v) => v.id === viewId.value) || null);
  /** The screen differs from the chosen view (or, without one, from the plain list). */
  const dirty = computed(() => {
    const v = currentView.value;
    const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    if (!v) return where.value != null || sort.value !== '' || !same(columns.value, defaultColumns(design));
    return !same(where.value, v.where) || sort.value !== (v.sort || '') || !same(columns.value, v.columns);
  });
  const mayChange = (v) => !!v && (v.owner_id === me || canDesign);

  // "No view" while the table has a default one is ?view=0 (else a reload would pick the default).
  const noView = () => (views.value.some((v) => v.is_default) ? '0' : null);

  function syncUrl(extra = {}) {
    const v = currentView.value;
    const custom = !v || dirty.value;
    ctx.setQuery({
      view: v ? v.id : noView(),
      q: search.value || null,
      where: custom && where.value ? JSON.stringify(where.value) : null,
      sort: custom && sort.value ? sort.value : null,
      cols: custom ? columns.value.join(',') : null,
      ...extra,
    });
  }

  const table = createTable({
    paging: 'cursor',
    cursor: q.cursor || null,
    perPage: Number(q.per_page) || 50,
    signal: ctx.signal,
    onPageChange: ({ cursor, perPage }) => ctx.setQuery({ cursor, per_page: perPage === 50 ? null : perPage }),
    load: async ({ cursor, perPage, signal: abort }) => {
      // Sorted by a field, the API pages by number: the pager's cursor is then "p:<page>".
      // The API's errors point at conditions by path: map the builder's paths, if it shows the
      // filter being sent (not edits made since).
      const mappable = JSON.stringify(builder.toWhere({ check: false }) ?? null) === JSON.stringify(where.value ?? null);
      const sorted = !!sort.value;
      const pageNo = sorted && PAGE_CURSOR.test(cursor || '') ? Number(PAGE_CURSOR.exec(cursor)[1]) : 1;
      const query = {
        per_page: perPage,
        where: where.value ? JSON.stringify(where.value) : null,
        sort: sort.value || null,
        q: search.value || null,
      };
      if (sorted) query.page = pageNo;
      else if (cursor && !PAGE_CURSOR.test(cursor)) query.cursor = cursor;
      let data;
      try {
        data = await api.get(`${base}/records`, query, { signal: abort });
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && mappable && builder.setErrors(err)) {
          filterOpen.value = true;
          throw new ApiError(422, { code: 'filter_invalid', detail: err.detail }); // the table says where to look
        }
        throw err;
      }
      refs.value = await loadReferenceLabels(designs, design, data.items, { signal: abort });
      if (sorted) {
        const more = data.items.length >= perPage && (data.total_exact === false || pageNo * perPage < data.total);
        return { ...data, next_cursor: more ? `p:${pageNo + 1}` : null, prev_cursor: pageNo > 1 ? `p:${pageNo - 1}` : null };
      }
      return data;
    },
  });

  function restart() {
    table.cursor.value = null;
    syncUrl({ cursor: null });
    return table.reload();
  }

  /** Applies the builder's conditions; false (errors shown at them) when one is incomplete. */
  function applyFilter() {
    const tree = builder.toWhere();
    if (tree === undefined) return false;
    where.value = tree;
    restart();
    return true;
  }

  function clearFilter() {
    builder.clear();
    where.value = null;
    restart();
  }

  function setSearch(text) {
    if (text === search.value) return;
    search.value = text;
    restart();
  }

  /** A click on a header: ascending → descending → newest first. */
  function toggleSort(key) {
    sort.value = sort.value === key ? `-${key}` : sort.value === `-${key}` ? '' : key;
    restart();
  }

  const order = [...activeFields(design).map((f) => f.key), ...systemColumns(design).map((c) => c.key)];
  const chooser = {
    isShown: (key) => columns.value.includes(key),
    toggle(key) {
      const next = new Set(columns.value);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      columns.value = order.filter((k) => next.has(k));
      syncUrl();
    },
  };

  function selectView(id) {
    const v = views.value.find((x) => String(x.id) === String(id)) || null;
    batch(() => {
      viewId.value = v ? v.id : null;
      where.value = v ? v.where : null;
      sort.value = v ? v.sort || '' : '';
      columns.value = (v && clean(v.columns)) || defaultColumns(design);
    });
    builder.setWhere(where.value);
    ctx.setQuery({ view: v ? v.id : noView(), where: null, sort: null, cols: null });
    restart();
  }

  async function refreshViews(selectId) {
    views.value = await api.get(`${base}/views`, null, { signal: ctx.signal });
    if (selectId !== undefined) viewId.value = selectId;
    syncUrl();
  }

  const current = () => ({ where: where.value, columns: columns.value, sort: sort.value });

  return {
    tableKey,
    design,
    designs,
    owners,
    canDesign,
    canWrite,
    views,
    viewId,
    currentView,
    dirty,
    mayChange,
    where,
    sort,
    columns,
    search,
    refs,
    filterOpen,
    builder,
    table,
    chooser,
    applyFilter,
    clearFilter,
    setSearch,
    toggleSort,
    selectView,
    refreshViews,
    current,
    base,
    me,
    isFiltered: () => !!(where.value || search.value),
  };
}
