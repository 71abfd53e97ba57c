// A data table with server-side paging: a model (createTable) and its view (<DataTable>).
//
//   const table = useConst(() => createTable({
//     load: ({ page, perPage, signal }) =>
//       api.get('/api/staff/users', { q, page, per_page: perPage }, { signal }),   // {items,total,page,per_page}
//     page: Number(ctx.query.page) || 1,
//     perPage: Number(ctx.query.per_page) || 50,
//     onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
//     signal: ctx.signal,                             // leaving the screen cancels the request
//   }));
//   html`<${DataTable} table=${table} label=${t('nav.staff')} columns=${columns}
//          onRowClick=${openEdit} rowClass=${(u) => …} empty=${t('staff.empty')} />`
//   table.reload()            fetch again (keeps the page); table.reload({ page: 1 }) after a filter changed
//   table.items / table.total / table.page / table.perPage / table.status   signals
//
// Large lists: when the answer says `total_exact: false` the total is shown as an estimate ("about
// 1,200,000") and "next" is offered while pages come back full. With paging: 'cursor' the table
// pages by keyset: load() gets { cursor, perPage, signal } and the answer's next_cursor /
// prev_cursor drive the pager (onPageChange gets { cursor, perPage }; pass `cursor` back in to
// restore the page from the URL).
//
// Columns: { key, label, render(row), align: 'end', nowrap, width, className, hideLabel, sortable }.
// A column without render() shows row[key] as text; an empty value shows an em dash.
//
// Sorting by a click on a header: <DataTable sort=${'name' or '-name' or null} onSort=${(key) => …}>;
// columns with `sortable: true` get a header button (aria-sort on the <th>); the screen decides
// what a click does (ascending → descending → unsorted) and reloads.
//
// Column chooser: const columns = useColumnChooser({ storageKey: 'kizuna.admin.x.columns',
// hidden: ['ip'] }) → { visible(columns) (the columns to show: pass them to DataTable),
// isShown(key), toggle(key), reset(), hidden (a signal of keys) }, remembered in this browser;
// <ColumnChooser chooser=${chooser} columns=${allColumns} /> is the menu for the toolbar. Columns
// with `always: true` cannot be hidden.

import { html, cx, batch, signal, computed, useEffect, useRef, useConst } from '../lib.js';
import { Icon } from './icons.js';
import { Button } from './button.js';
import { isAbort } from '../api.js';
import { errorText } from '../errors.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';

export const PER_PAGE_OPTIONS = [25, 50, 100];

export function createTable({ load, page = 1, perPage = 50, cursor = null, paging = 'page', onPageChange, signal: parentSignal }) {
  const byCursor = paging === 'cursor';
  const state = {
    items: signal([]),
    total: signal(0),
    /** false when the server estimated the total (a list of millions) */
    totalExact: signal(true),
    page: signal(Math.max(1, page)),
    perPage: signal(PER_PAGE_OPTIONS.includes(perPage) ? perPage : 50),
    /** keyset paging: the cursor of this page (null: the first), and the neighbours' */
    cursor: signal(byCursor ? cursor || null : null),
    next: signal(null),
    prev: signal(null),
    /** 'loading' (first load) | 'ready' | 'error' */
    status: signal('loading'),
    error: signal(null),
    /** true while any request runs (the rows dim) */
    busy: signal(false),
  };
  const pageCount = computed(() => Math.max(1, Math.ceil(state.total.value / state.perPage.value)));
  const hasPrev = computed(() => (byCursor ? state.prev.value != null : state.page.value > 1));
  const hasNext = computed(() => {
    if (byCursor) return state.next.value != null;
    if (state.totalExact.value) return state.page.value < pageCount.value;
    return state.next.value != null || state.items.value.length >= state.perPage.value;
  });
  let controller = null;
  parentSignal?.addEventListener('abort', () => controller?.abort(), { once: true });

  async function fetchPage() {
    controller?.abort();
    if (parentSignal?.aborted) return;
    controller = new AbortController();
    const mine = controller.signal;
    state.busy.value = true;
    try {
      const query = { page: state.page.value, perPage: state.perPage.value, signal: mine };
      if (byCursor) query.cursor = state.cursor.value;
      const data = await load(query);
      if (mine.aborted) return;
      const items = data.items || [];
      batch(() => {
        state.items.value = items;
        state.total.value = Number(data.total ?? items.length);
        state.totalExact.value = data.total_exact !== false;
        state.next.value = data.next_cursor ?? null;
        state.prev.value = data.prev_cursor ?? null;
        if (!byCursor) state.page.value = Number(data.page || state.page.value);
        state.perPage.value = Number(data.per_page || state.perPage.value);
      });
      // A page past the end (rows were deleted): go to the last page.
      if (!byCursor && items.length === 0 && state.total.value > 0 && state.page.value > pageCount.value) {
        go(pageCount.value);
        return;
      }
      state.error.value = null;
      state.status.value = 'ready';
    } catch (err) {
      if (isAbort(err) || mine.aborted) return;
      state.error.value = err;
      state.status.value = 'error';
    } finally {
      if (!mine.aborted) state.busy.value = false;
    }
  }

  function changed() {
    if (byCursor) onPageChange?.({ cursor: state.cursor.value, perPage: state.perPage.value });
    else onPageChange?.({ page: state.page.value, perPage: state.perPage.value });
  }

  /** Page mode: go to page p (kept within the pages when the total is exact). */
  function go(p) {
    if (byCursor) {
      state.cursor.value = null; // keyset lists can only restart from the first page
    } else {
      const last = state.totalExact.value ? Math.max(pageCount.value, 1) : Infinity;
      state.page.value = Math.min(Math.max(1, p), last);
    }
    changed();
    return fetchPage();
  }

  /** The next (+1) or previous (-1) page, in either mode. */
  function step(direction) {
    if (!byCursor) return go(state.page.value + direction);
    state.cursor.value = direction > 0 ? state.next.value : state.prev.value;
    changed();
    return fetchPage();
  }

  fetchPage();

  return {
    ...state,
    paging,
    pageCount,
    hasPrev,
    hasNext,
    go,
    step,
    setPerPage(n) {
      state.perPage.value = n;
      return go(1);
    },
    /** Fetch again; pass { page: 1 } to start over (after a filter changed), or another page. */
    reload({ page: p } = {}) {
      if (p != null) return go(p);
      return fetchPage();
    },
  };
}

function cellClass(col) {
  return cx(col.align === 'end' && 'cell--end', col.nowrap && 'cell--nowrap', col.className);
}

function Row({ row, columns, onRowClick, rowClass }) {
  const clickable = !!onRowClick;
  return html`<tr
    class=${rowClass ? rowClass(row) || undefined : undefined}
    tabindex=${clickable ? '0' : undefined}
    onClick=${clickable
      ? (e) => {
          // Buttons and links inside the row do their own thing.
          if (e.target.closest('a, button, input, select, label')) return;
          onRowClick(row, e);
        }
      : undefined}
    onKeyDown=${clickable
      ? (e) => {
          if (e.target === e.currentTarget && (e.key === 'Enter' || e.key === ' ')) {
            e.preventDefault();
            onRowClick(row, e);
          }
        }
      : undefined}
  >
    ${columns.map((col) => {
      const value = col.render ? col.render(row) : row[col.key];
      return html`<td class=${cellClass(col)}>${value == null || value === '' || value === false ? html`<span class="muted">${fmt.EMPTY}</span>` : value}</td>`;
    })}
  </tr>`;
}

function MessageRow({ span, children }) {
  return html`<tr class="table__message"><td colspan=${span}>${children}</td></tr>`;
}

function Pager({ table }) {
  const total = table.total.value;
  const exact = table.totalExact.value;
  const page = table.page.value;
  const perPage = table.perPage.value;
  const count = table.items.value.length;
  const from = count === 0 ? 0 : (page - 1) * perPage + 1;
  const to = (page - 1) * perPage + count;
  const numbers = { from: fmt.number(from), to: fmt.number(to), total: fmt.number(total) };
  let range;
  let where = null;
  if (table.paging === 'cursor') {
    // Keyset pages do not know their offset: the total only.
    range = exact ? t('table.loaded', { total: numbers.total }) : t('table.loaded_estimated', { total: numbers.total });
  } else if (exact) {
    range = t('table.range', numbers);
    where = t('table.page', { page, pages: table.pageCount.value });
  } else {
    range = t('table.range_estimated', numbers);
    where = t('table.page_number', { page });
  }
  return html`<div class="pager">
    <span class="pager__range">${range}</span>
    <span class="pager__spacer"></span>
    <select class="input input--sm" aria-label=${t('table.per_page')} value=${String(perPage)} onChange=${(e) => table.setPerPage(Number(e.currentTarget.value))}>
      ${PER_PAGE_OPTIONS.map((n) => html`<option value=${String(n)}>${t('table.per_page_option', { count: n })}</option>`)}
    </select>
    <span class="pager__pages">
      <${Button} icon="left" size="sm" variant="ghost" disabled=${!table.hasPrev.value} aria-label=${t('table.prev')} onClick=${() => table.step(-1)} />
      ${where && html`<span class="pager__page">${where}</span>`}
      <${Button} icon="right" size="sm" variant="ghost" disabled=${!table.hasNext.value} aria-label=${t('table.next')} onClick=${() => table.step(1)} />
    </span>
  </div>`;
}

/** The header of a sortable column: a button; `sort` is 'key' (ascending) or '-key'. */
function SortHeader({ col, sort, onSort }) {
  const direction = sort === col.key ? 'ascending' : sort === `-${col.key}` ? 'descending' : null;
  const title = direction === 'ascending' ? t('table.sort_descending') : direction === 'descending' ? t('table.sort_none') : t('table.sort_ascending');
  return html`<button type="button" class=${cx('th-sort', direction && 'is-sorted')} title=${title} onClick=${() => onSort(col.key)}>
    <span>${col.label}</span>
    <span class="th-sort__arrow" aria-hidden="true">${direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'}</span>
  </button>`;
}

export function DataTable({ table, columns, label, onRowClick, rowClass, empty, hidden = false, sort = null, onSort = null }) {
  const scroller = useRef(null);
  const page = table.page.value;
  // A new page starts at the top.
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [page]);

  const status = table.status.value;
  const items = table.items.value;
  const span = columns.length;
  let body;
  if (status === 'loading') {
    body = html`<${MessageRow} span=${span}><div class="table__loading"><span class="spinner"></span>${t('common.loading')}</div><//>`;
  } else if (status === 'error') {
    const err = table.error.value;
    body = html`<${MessageRow} span=${span}>
      <div class="table__error" role="alert">
        <${Icon} name="warning" />
        <span>${errorText(err)}</span>
        ${err?.status !== 403 && html`<${Button} label=${t('common.retry')} size="sm" onClick=${() => table.reload()} />`}
      </div>
    <//>`;
  } else if (items.length === 0) {
    const node = typeof empty === 'function' ? empty() : empty;
    body = html`<${MessageRow} span=${span}>${typeof node === 'string' || node == null ? html`<div class="table__empty">${node || t('table.empty')}</div>` : node}<//>`;
  } else {
    body = items.map((row, i) => html`<${Row} key=${row.id ?? i} row=${row} columns=${columns} onRowClick=${onRowClick} rowClass=${rowClass} />`);
  }
  const busy = table.busy.value;
  return html`<div class=${cx('table-card', busy && 'is-loading')} aria-busy=${busy ? 'true' : undefined} hidden=${hidden}>
    <div class="table-scroll" ref=${scroller}>
      <table class=${cx('table', onRowClick && 'table--clickable')} aria-label=${label}>
        <thead>
          <tr>
            ${columns.map(
              (col) => html`<th scope="col" class=${cellClass(col)} style=${col.width ? { width: col.width } : undefined}
                aria-sort=${onSort && col.sortable ? (sort === col.key ? 'ascending' : sort === `-${col.key}` ? 'descending' : 'none') : undefined}>
                ${col.hideLabel
                  ? html`<span class="visually-hidden">${col.label}</span>`
                  : onSort && col.sortable ? html`<${SortHeader} col=${col} sort=${sort} onSort=${onSort} />` : col.label}
              </th>`,
            )}
          </tr>
        </thead>
        <tbody>${body}</tbody>
      </table>
    </div>
    <div class="table-status" role="status" aria-live="polite">
      ${busy && t('common.loading')}
      ${!busy && status === 'ready' && table.totalExact.value && t('table.loaded', { total: fmt.number(table.total.value) })}
      ${!busy && status === 'ready' && !table.totalExact.value && t('table.loaded_estimated', { total: fmt.number(table.total.value) })}
    </div>
    ${status === 'ready' && html`<${Pager} table=${table} />`}
  </div>`;
}

// ---------------------------------------------------------------------------------------------
// Column chooser.

function storedKeys(storageKey) {
  try {
    const raw = storageKey && localStorage.getItem(storageKey);
    const list = raw ? JSON.parse(raw) : null;
    return Array.isArray(list) ? list : null;
  } catch {
    return null;
  }
}

export function useColumnChooser({ storageKey, hidden: hiddenByDefault = [] } = {}) {
  return useConst(() => {
    const hidden = signal(new Set(storedKeys(storageKey) ?? hiddenByDefault));
    const save = () => {
      try {
        if (storageKey) localStorage.setItem(storageKey, JSON.stringify([...hidden.value]));
      } catch {
        /* storage disabled: the choice lasts for this page */
      }
    };
    return {
      hidden,
      /** The columns to show (reading this subscribes the component to the choice). */
      visible: (columns) => columns.filter((c) => c.always || !hidden.value.has(c.key)),
      isShown: (key) => !hidden.value.has(key),
      toggle(key) {
        const next = new Set(hidden.value);
        if (next.has(key)) next.delete(key);
        else next.add(key);
        hidden.value = next;
        save();
      },
      reset() {
        hidden.value = new Set(hiddenByDefault);
        save();
      },
    };
  });
}

export function ColumnChooser({ chooser, columns, label }) {
  const ref = useRef(null);
  // A click elsewhere or Esc closes the menu.
  useEffect(() => {
    const close = (e) => {
      const el = ref.current;
      if (!el?.open) return;
      if (e.type === 'keydown' ? e.key === 'Escape' : !el.contains(e.target)) {
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
  return html`<details class="column-chooser" ref=${ref}>
    <summary class="btn btn--ghost btn--sm"><${Icon} name="sliders" size=${16} /><span class="btn__label">${label || t('table.columns')}</span></summary>
    <div class="column-chooser__menu" role="group" aria-label=${label || t('table.columns')}>
      ${columns
        .filter((c) => !c.always)
        .map(
          (c) => html`<label class="column-chooser__item">
            <input type="checkbox" class="checkbox" checked=${chooser.isShown(c.key)} onChange=${() => chooser.toggle(c.key)} />
            <span>${c.label}</span>
          </label>`,
        )}
    </div>
  </details>`;
}
