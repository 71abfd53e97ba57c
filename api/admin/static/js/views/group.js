// One group (#/groups/<key>): its labels, description and rule name; rename, delete; its
// members a page at a time, each linked to its record, with "add members" (record ids) and
// "remove". Many members at once: the member table's list, selection → "Groups" (bulk).

import { html, useConst } from '../lib.js';
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { Page } from '../ui/page.js';
import { Button, LinkButton } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { detailList, mono, muted } from '../ui/cells.js';
import { formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { deleteGroup, groupLabel, renameGroupDialog } from '../groups/groups.js';

export async function load(ctx) {
  const { key } = ctx.params;
  if (!/^[a-z][a-z0-9_-]{0,49}$/.test(key)) throw new ApiError(404, { code: 'group_not_found' });
  const base = `/api/groups/${encodeURIComponent(key)}`;
  const [group, list] = await Promise.all([api.get(base, null, { signal: ctx.signal }), api.get('/api/groups', null, { signal: ctx.signal })]);
  return { group, base, memberTable: list.member_table };
}

function parseIds(text) {
  const parts = String(text || '').split(/[\s,、，]+/).filter(Boolean);
  if (!parts.length || parts.some((p) => !/^\d{1,19}$/.test(p))) return null;
  return [...new Set(parts.map(Number))];
}

export default function GroupView({ ctx, data }) {
  const { group, base, memberTable } = data;
  const canWrite = can('groups:write');
  const table = useConst(() =>
    createTable({
      load: async ({ page, perPage, signal }) => {
        const found = await api.get(`${base}/members`, { offset: (page - 1) * perPage, limit: perPage }, { signal });
        return { items: found.items, total: found.total, page, per_page: perPage };
      },
      page: Number(ctx.query.page) || 1,
      perPage: Number(ctx.query.per_page) || 50,
      onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
      signal: ctx.signal,
    }),
  );

  async function rename() {
    if (await renameGroupDialog(group)) {
      toast(t('common.saved'), { type: 'success' });
      ctx.reload();
    }
  }

  async function remove() {
    if (await deleteGroup({ ...group, members: table.total.value })) ctx.navigate('/groups');
  }

  async function addMembers() {
    const done = await formDialog({
      title: t('groups.members.add_title'),
      intro: t('groups.members.add_intro'),
      testId: 'group-add-members',
      fields: [{ name: 'ids', type: 'text', label: t('groups.members.ids'), required: true, help: t('groups.members.ids_help'), testId: 'group-member-ids' }],
      submitLabel: t('groups.members.add'),
      submitTestId: 'group-add-members-submit',
      errorFieldByCode: { member_not_found: 'ids' },
      validate: (v) => (parseIds(v.ids) ? null : { ids: t('groups.members.ids_invalid') }),
      onSubmit: (v) => api.post(`${base}/members`, { record_ids: parseIds(v.ids) }).catch((err) => {
        if (err instanceof ApiError) err.errors = err.errors.map((e) => ({ ...e, field: e.field === 'record_ids' ? 'ids' : e.field }));
        throw err;
      }),
    });
    if (done) {
      toast(t('groups.members.added', { count: fmt.number(done.changed) }), { type: 'success' });
      table.reload();
    }
  }

  async function removeMember(member) {
    try {
      await api.post(`${base}/members/remove`, { record_ids: [member.id] });
      toast(t('groups.members.removed', { name: member.label }), { type: 'success' });
      table.reload();
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  const recordHref = (m) => `#/customers/${encodeURIComponent(m.table)}/${encodeURIComponent(m.id)}`;
  const columns = [
    { key: 'label', label: t('groups.members.col.name'), render: (m) => html`<a href=${recordHref(m)}>${m.label}</a>` },
    { key: 'id', label: t('customers.list.col.id'), nowrap: true, render: (m) => muted(String(m.id)) },
  ];
  if (canWrite) {
    columns.push({
      key: 'actions', label: t('common.actions'), hideLabel: true, align: 'end',
      render: (m) => html`<${Button} label=${t('groups.members.remove')} size="sm" variant="danger-ghost" testId=${`group-member-remove-${m.id}`} onClick=${(e) => { e.stopPropagation(); removeMember(m); }} />`,
    });
  }

  return html`<${Page}
    title=${groupLabel(group)}
    subtitle=${group.description || null}
    back=${{ href: '#/groups', label: t('nav.groups') }}
    fill
    actions=${[
      canWrite && html`<${Button} label=${t('groups.delete')} icon="trash" variant="danger-ghost" testId="group-delete" onClick=${remove} />`,
      canWrite && html`<${Button} label=${t('groups.rename')} icon="edit" testId="group-rename-open" onClick=${rename} />`,
      canWrite && memberTable && html`<${Button} label=${t('groups.members.add')} icon="plus" variant="primary" testId="group-add-open" onClick=${addMembers} />`,
    ]}
    toolbar=${html`<div class="panel-pad">${detailList([
      [t('groups.col.rule'), mono(group.rule)],
      [t('groups.field.label_ja'), group.label.ja || muted('—')],
      [t('groups.field.label_en'), group.label.en || muted('—')],
      [t('groups.col.members'), html`<span data-testid="group-member-count">${fmt.number(table.total.value)}</span>`],
      memberTable && [t('groups.member_table'), html`<${LinkButton} href=${`#/customers/${encodeURIComponent(memberTable)}`} label=${t('groups.open_member_table')} size="sm" variant="ghost" />`],
    ].filter(Boolean))}</div>`}
  >
    <${DataTable} table=${table} label=${t('groups.members.title')} columns=${columns} empty=${t('groups.members.empty')}
      onRowClick=${(m) => ctx.navigate(`/customers/${encodeURIComponent(m.table)}/${encodeURIComponent(m.id)}`)} />
  <//>`;
}
