// Groups (#/groups): every group with its key (what access rules name: group:<key>), its
// labels and its number of members; create one; open one for its members.

import { html, useConst } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { mono, muted, time, twoLines } from '../ui/cells.js';
import { createGroupDialog, groupLabel } from '../groups/groups.js';

export default function GroupsView({ ctx }) {
  const canWrite = can('groups:write');
  const state = useConst(() => ({ memberTable: null }));
  const table = useConst(() =>
    createTable({
      load: async ({ signal }) => {
        const data = await api.get('/api/groups', null, { signal });
        state.memberTable = data.member_table;
        return { items: data.items, total: data.items.length };
      },
      perPage: 200,
      signal: ctx.signal,
    }),
  );

  async function openCreate() {
    const made = await createGroupDialog();
    if (made) ctx.navigate(`/groups/${encodeURIComponent(made.key)}`);
  }

  const columns = [
    { key: 'label', label: t('groups.col.name'), render: (g) => twoLines(html`<a href=${`#/groups/${encodeURIComponent(g.key)}`}>${groupLabel(g)}</a>`, g.description || null) },
    { key: 'rule', label: t('groups.col.rule'), nowrap: true, render: (g) => mono(g.rule) },
    { key: 'members', label: t('groups.col.members'), nowrap: true, align: 'end', render: (g) => fmt.number(g.members) },
    { key: 'updated_at', label: t('groups.col.updated_at'), nowrap: true, render: (g) => time(g.updated_at) },
  ];
  const loaded = table.status.value === 'ready';

  return html`<${Page}
    title=${t('nav.groups')}
    subtitle=${t('groups.subtitle')}
    fill
    actions=${[canWrite && html`<${Button} label=${t('groups.create')} icon="plus" variant="primary" testId="group-new" onClick=${openCreate} />`]}
  >
    ${loaded && !state.memberTable && html`<${Notice} tone="warning" testId="groups-no-member-table" message=${t('groups.no_member_table')} />`}
    <${DataTable} table=${table} label=${t('nav.groups')} columns=${columns} empty=${t('groups.empty')}
      onRowClick=${(g) => ctx.navigate(`/groups/${encodeURIComponent(g.key)}`)} />
  <//>`;
}
