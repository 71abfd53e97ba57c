// A data table with server-side paging.
//
//   const table = dataTable({
//     label: t('nav.staff'),                          // accessible name of the table
//     columns: [
//       { key: 'name', label: t('staff.col.name'), render: (row) => twoLines(row.name, row.email) },
//       { key: 'role', label: t('staff.col.role'), render: (row) => roleLabel(row.role) },
//       { key: 'created_at', label: t('common.created_at'), render: (row) => time(row.created_at), nowrap: true },
//       { key: 'actions', label: t('common.actions'), hideLabel: true, align: 'end', render: … },
//     ],
//     load: ({ page, perPage, signal }) =>
//       api.get('/api/staff/users', { q, page, per_page: perPage }, { signal }),   // {items,total,page,per_page}
//     page: Number(ctx.query.page) || 1,
//     onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
//     onRowClick: (row) => openEdit(row),             // optional; rows become focusable buttons
//     empty: t('staff.empty'),                        // text or a node for an empty result
//     signal: ctx.signal,
//   });
//   table.el            → put it in page({ body: table.el, fill: true })
//   table.reload()      → fetch again (keeps page); table.reload({ page: 1 }) after a filter changes
//
// A column without render() shows row[key] as text. Columns: key, label, render, align ('end'),
// nowrap, width (CSS length), className, hideLabel (visually hidden header text).

import { h, mount } from './dom.js';
import { icon } from './icons.js';
import { button } from './button.js';
import { isAbort } from '../api.js';
import { errorText } from '../errors.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';

export const PER_PAGE_OPTIONS = [25, 50, 100];

export function dataTable({
  columns,
  load,
  label,
  page = 1,
  perPage = 50,
  onPageChange,
  onRowClick,
  rowClass,
  empty,
  signal,
}) {
  const state = { page: Math.max(1, page), perPage: PER_PAGE_OPTIONS.includes(perPage) ? perPage : 50, total: 0, items: [] };
  let controller = null;
  // Leaving the screen cancels the request in flight.
  signal?.addEventListener('abort', () => controller?.abort(), { once: true });

  const thead = h(
    'thead',
    h(
      'tr',
      columns.map((col) =>
        h(
          'th',
          {
            scope: 'col',
            class: [col.align === 'end' && 'cell--end', col.nowrap && 'cell--nowrap', col.className],
            style: col.width ? { width: col.width } : null,
          },
          col.hideLabel ? h('span', { class: 'visually-hidden' }, col.label) : col.label,
        ),
      ),
    ),
  );
  const tbody = h('tbody');
  const table = h('table', { class: ['table', onRowClick && 'table--clickable'], 'aria-label': label }, thead, tbody);
  const scroller = h('div', { class: 'table-scroll' }, table);
  const status = h('div', { class: 'table-status', role: 'status', 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager' });
  const el = h('div', { class: 'table-card' }, scroller, status, pager);

  function messageRow(node) {
    return h('tr', { class: 'table__message' }, h('td', { colspan: columns.length }, node));
  }

  function renderCell(col, row) {
    const value = col.render ? col.render(row) : row[col.key];
    return h(
      'td',
      { class: [col.align === 'end' && 'cell--end', col.nowrap && 'cell--nowrap', col.className] },
      value == null || value === '' ? h('span', { class: 'muted' }, fmt.EMPTY) : value,
    );
  }

  function renderRow(row) {
    const tr = h('tr', { class: rowClass ? rowClass(row) : null }, columns.map((col) => renderCell(col, row)));
    if (onRowClick) {
      tr.tabIndex = 0;
      tr.addEventListener('click', (e) => {
        // Buttons and links inside the row do their own thing.
        if (e.target.closest('a, button, input, select, label')) return;
        onRowClick(row, e);
      });
      tr.addEventListener('keydown', (e) => {
        if (e.target === tr && (e.key === 'Enter' || e.key === ' ')) {
          e.preventDefault();
          onRowClick(row, e);
        }
      });
    }
    return tr;
  }

  function renderRows() {
    if (state.items.length === 0) {
      const node = typeof empty === 'function' ? empty() : empty;
      mount(tbody, messageRow(node instanceof Node ? node : h('div', { class: 'table__empty' }, node || t('table.empty'))));
    } else {
      mount(tbody, state.items.map(renderRow));
    }
  }

  function pageCount() {
    return Math.max(1, Math.ceil(state.total / state.perPage));
  }

  function renderPager() {
    const pages = pageCount();
    const from = state.total === 0 ? 0 : (state.page - 1) * state.perPage + 1;
    const to = Math.min(state.total, state.page * state.perPage);
    const prev = button({ icon: 'left', size: 'sm', variant: 'ghost', disabled: state.page <= 1, attrs: { 'aria-label': t('table.prev') }, onClick: () => go(state.page - 1) });
    const next = button({ icon: 'right', size: 'sm', variant: 'ghost', disabled: state.page >= pages, attrs: { 'aria-label': t('table.next') }, onClick: () => go(state.page + 1) });
    const perPageSelect = h(
      'select',
      {
        class: 'input input--sm',
        'aria-label': t('table.per_page'),
        onchange: (e) => {
          state.perPage = Number(e.target.value);
          go(1);
        },
      },
      PER_PAGE_OPTIONS.map((n) => h('option', { value: String(n), selected: n === state.perPage }, t('table.per_page_option', { count: n }))),
    );
    mount(
      pager,
      h('span', { class: 'pager__range' }, t('table.range', { from: fmt.number(from), to: fmt.number(to), total: fmt.number(state.total) })),
      h('span', { class: 'pager__spacer' }),
      perPageSelect,
      h('span', { class: 'pager__pages' }, prev, h('span', { class: 'pager__page' }, t('table.page', { page: state.page, pages })), next),
    );
  }

  async function fetchPage() {
    controller?.abort();
    controller = new AbortController();
    const mySignal = controller.signal;
    el.setAttribute('aria-busy', 'true');
    el.classList.add('is-loading');
    status.textContent = t('common.loading');
    if (!state.loaded) mount(tbody, messageRow(h('div', { class: 'table__loading' }, h('span', { class: 'spinner' }), t('common.loading'))));
    try {
      const data = await load({ page: state.page, perPage: state.perPage, signal: mySignal });
      if (mySignal.aborted) return;
      state.items = data.items || [];
      state.total = Number(data.total ?? state.items.length);
      state.page = Number(data.page || state.page);
      state.perPage = Number(data.per_page || state.perPage);
      state.loaded = true;
      // A page past the end (rows were deleted): go to the last page.
      if (state.items.length === 0 && state.total > 0 && state.page > pageCount()) {
        go(pageCount());
        return;
      }
      renderRows();
      renderPager();
      status.textContent = t('table.loaded', { total: state.total });
    } catch (err) {
      if (isAbort(err) || mySignal.aborted) return;
      state.loaded = false;
      mount(
        tbody,
        messageRow(
          h(
            'div',
            { class: 'table__error', role: 'alert' },
            icon('warning'),
            h('span', errorText(err)),
            err.status !== 403 && button({ label: t('common.retry'), size: 'sm', onClick: () => fetchPage() }),
          ),
        ),
      );
      mount(pager);
      status.textContent = '';
    } finally {
      if (!mySignal.aborted) {
        el.removeAttribute('aria-busy');
        el.classList.remove('is-loading');
      }
    }
  }

  function go(p) {
    state.page = Math.min(Math.max(1, p), Math.max(pageCount(), 1));
    onPageChange?.({ page: state.page, perPage: state.perPage });
    scroller.scrollTop = 0;
    return fetchPage();
  }

  fetchPage();

  return {
    el,
    /** Fetch again; pass { page } to jump (e.g. page 1 after a filter changed). */
    reload({ page: p } = {}) {
      if (p != null) return go(p);
      return fetchPage();
    },
    get items() {
      return state.items;
    },
    get total() {
      return state.total;
    },
  };
}
