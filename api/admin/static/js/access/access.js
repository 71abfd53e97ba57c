// The access screen's models (#/access): the matrix (createMatrix: filters, the table, the
// summary of rules with their counts of members), the last build (loadBuild) and "view as"
// (createPreview: whom, which path, the gate's decision and the frame's URL).
//
// Codes from the API (decision, reason, kind) get their words here, each by a literal t() key.

import { signal, batch } from '../lib.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { createTable } from '../ui/table.js';

export const decisionLabel = (d) =>
  ({
    allow: () => t('access.decision.allow'),
    login: () => t('access.decision.login'),
    forbidden: () => t('access.decision.forbidden'),
    not_found: () => t('access.decision.not_found'),
  })[d]?.() ?? d;

export const decisionTone = (d) => ({ allow: 'success', login: 'info', forbidden: 'danger', not_found: 'warning' })[d] || 'neutral';

export const reasonText = (r) =>
  ({
    public: () => t('access.reason.public'),
    allowed: () => t('access.reason.allowed'),
    anonymous: () => t('access.reason.anonymous'),
    inactive: () => t('access.reason.inactive'),
    denied: () => t('access.reason.denied'),
    unknown: () => t('access.reason.unknown'),
    folder_unknown: () => t('access.reason.folder_unknown'),
  })[r]?.() ?? r;

export const kindLabel = (k) =>
  ({
    page: () => t('access.kind.page'),
    article: () => t('access.kind.article'),
    index: () => t('access.kind.index'),
    file: () => t('access.kind.file'),
    special: () => t('access.kind.special'),
  })[k]?.() ?? k;

/** The matrix: its filters (kept in the URL), the table of URLs and the summary of rules. */
export function createMatrix(ctx) {
  const q = ctx.query;
  const filters = { q: q.q || '', rule: q.rule || '', group: q.group || '', kind: q.kind || '' };
  const summary = signal(null); // the answer without its items: rules, groups, kinds, counts
  const table = createTable({
    load: async ({ page, perPage, signal: abort }) => {
      const data = await api.get(
        '/api/access/matrix',
        { q: filters.q || null, rule: filters.rule || null, group: filters.group || null, kind: filters.kind || null, offset: (page - 1) * perPage, limit: perPage },
        { signal: abort },
      );
      summary.value = data;
      return { items: data.items, total: data.total, page, per_page: perPage };
    },
    page: Number(q.page) || 1,
    perPage: Number(q.per_page) || 50,
    onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
    signal: ctx.signal,
  });

  function setFilter(name, value) {
    filters[name] = value || '';
    ctx.setQuery({ [name]: value || null, page: null });
    table.reload({ page: 1 });
  }

  return { filters, summary, table, setFilter };
}

/** "View as": whom (a member, a group, anonymous), the path, and the answer. */
export function createPreview(ctx) {
  const q = ctx.query;
  const state = {
    path: signal(q.path || '/'),
    who: signal(q.as || 'member'), // member | group | anonymous
    member: signal(null), // {id, label, email}
    group: signal(q.group_as || ''),
    found: signal([]), // members matching the search
    groups: signal([]), // every group [{key, label}]
    searching: signal(false),
    result: signal(null),
    error: signal(null),
    busy: signal(false),
  };
  let searchAbort = null;

  /** The groups to choose from, and the member of a link (#/access?tab=preview&member=ID). */
  async function loadGroups() {
    const memberId = /^\d{1,19}$/.test(q.member || '') ? q.member : null;
    try {
      const data = await api.get('/api/access/subjects', { member: memberId }, { signal: ctx.signal });
      batch(() => {
        state.groups.value = data.groups;
        if (!state.group.value && data.groups.length) state.group.value = data.groups[0].key;
        if (memberId && data.members.length && !state.member.value) state.member.value = data.members[0];
      });
    } catch (err) {
      if (!isAbort(err)) state.error.value = err;
    }
  }

  async function search(text) {
    searchAbort?.abort();
    if (!text) {
      state.found.value = [];
      return;
    }
    searchAbort = new AbortController();
    const mine = searchAbort.signal;
    ctx.signal.addEventListener('abort', () => searchAbort?.abort(), { once: true });
    state.searching.value = true;
    try {
      const data = await api.get('/api/access/subjects', { q: text }, { signal: mine });
      if (!mine.aborted) state.found.value = data.members;
    } catch (err) {
      if (!isAbort(err)) state.error.value = err;
    } finally {
      if (!mine.aborted) state.searching.value = false;
    }
  }

  function pick(member) {
    batch(() => {
      state.member.value = member;
      state.found.value = [];
    });
  }

  /** Ready to ask: a path and someone to ask for. */
  function ready() {
    if (!state.path.value.trim()) return false;
    if (state.who.value === 'member') return !!state.member.value;
    if (state.who.value === 'group') return !!state.group.value;
    return true;
  }

  async function show() {
    if (!ready()) return;
    const who = state.who.value;
    const params = { path: state.path.value.trim() };
    if (who === 'member') params.member = state.member.value.id;
    else if (who === 'group') params.group = state.group.value;
    else params.anonymous = true;
    ctx.setQuery({ path: params.path, as: who, group_as: who === 'group' ? params.group : null, member: who === 'member' ? params.member : null });
    state.busy.value = true;
    try {
      const result = await api.get('/api/access/preview', params, { signal: ctx.signal });
      batch(() => {
        state.result.value = result;
        state.path.value = result.path;
        state.error.value = null;
      });
    } catch (err) {
      if (isAbort(err)) return;
      batch(() => {
        state.result.value = null;
        state.error.value = err;
      });
    } finally {
      state.busy.value = false;
    }
  }

  return { ...state, loadGroups, search, pick, ready, show };
}
