// Staff users (#/staff?q=&role=&page=): list, add, edit (no delete: deactivate instead).

import { html, useConst } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can, patchStaff, session } from '../session.js';
import { localeLabel, localeOptions, roleLabel, roleOptions, ROLE_NAMES } from '../labels.js';
import { passwordRulesText, sentences } from '../password-rules.js';
import { Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { FilterSelect, SearchBox, Toolbar } from '../ui/toolbar.js';
import { badge, time, twoLines } from '../ui/cells.js';
import { formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';

export default function StaffView({ ctx }) {
  const canWrite = can('staff:write');
  const filters = useConst(() => ({ q: ctx.query.q || '', role: ctx.query.role || '' }));
  const table = useConst(() =>
    createTable({
      load: ({ page, perPage, signal }) => api.get('/api/staff/users', { ...filters, page, per_page: perPage }, { signal }),
      page: Number(ctx.query.page) || 1,
      perPage: Number(ctx.query.per_page) || 50,
      onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
      signal: ctx.signal,
    }),
  );

  const columns = [
    {
      key: 'name',
      label: t('staff.col.name'),
      render: (u) => html`<div class="cell-with-badge">${twoLines(u.name, u.email)}${u.id === session.staff.id && badge(t('staff.you'), 'info')}</div>`,
    },
    { key: 'role', label: t('staff.col.role'), nowrap: true, render: (u) => badge(roleLabel(u.role), u.role === 'admin' ? 'accent' : 'neutral') },
    { key: 'locale', label: t('staff.col.locale'), nowrap: true, render: (u) => localeLabel(u.locale) },
    {
      key: 'is_active',
      label: t('staff.col.status'),
      nowrap: true,
      render: (u) => (u.is_active ? badge(t('staff.status.active'), 'success') : badge(t('staff.status.inactive'), 'neutral')),
    },
    { key: 'last_login_at', label: t('staff.col.last_login'), nowrap: true, render: (u) => time(u.last_login_at) },
    { key: 'created_at', label: t('common.created_at'), nowrap: true, render: (u) => time(u.created_at) },
  ];

  function applyFilters(patch) {
    Object.assign(filters, patch);
    ctx.setQuery({ ...patch, page: null });
    table.reload({ page: 1 });
  }

  async function openCreate() {
    const user = await formDialog({
      title: t('staff.add_title'),
      fields: [
        { name: 'name', type: 'text', label: t('staff.field.name'), required: true, maxlength: 200 },
        { name: 'email', type: 'email', label: t('staff.field.email'), required: true, autocomplete: 'off', maxlength: 254 },
        { name: 'role', type: 'select', label: t('staff.field.role'), options: await roleOptions(), value: 'viewer', help: t('staff.role_help') },
        { name: 'locale', type: 'select', label: t('staff.field.locale'), options: localeOptions(), value: 'ja' },
        { name: 'password', type: 'password', label: t('staff.field.password'), required: true, autocomplete: 'new-password', help: sentences(passwordRulesText(session.passwordPolicy, { who: 'staff' }), t('staff.password_help')) },
      ],
      submitLabel: t('staff.add'),
      errorFieldByCode: { email_taken: 'email' },
      onSubmit: (values) => api.post('/api/staff/users', values),
    });
    if (user) {
      toast(t('staff.created', { name: user.name }), { type: 'success' });
      table.reload();
    }
  }

  async function openEdit(u) {
    const self = u.id === session.staff.id;
    const saved = await formDialog({
      title: t('staff.edit_title'),
      fields: [
        { name: 'email', type: 'static', label: t('staff.field.email'), value: u.email },
        { name: 'name', type: 'text', label: t('staff.field.name'), required: true, maxlength: 200 },
        { name: 'role', type: 'select', label: t('staff.field.role'), options: await roleOptions(), disabled: self, help: self ? t('staff.self_help') : t('staff.role_help') },
        { name: 'locale', type: 'select', label: t('staff.field.locale'), options: localeOptions() },
        { name: 'is_active', type: 'checkbox', label: t('staff.field.is_active'), disabled: self, help: t('staff.is_active_help') },
        { type: 'section', label: t('staff.password_section') },
        { name: 'password', type: 'password', label: t('staff.field.new_password'), autocomplete: 'new-password', help: sentences(t('staff.new_password_help'), passwordRulesText(session.passwordPolicy, { who: self ? 'self' : 'staff' })) },
      ],
      values: u,
      submitLabel: t('common.save'),
      onSubmit: (values, { changed }) => {
        const body = { ...changed };
        if (!body.password) delete body.password;
        if (self) {
          delete body.role;
          delete body.is_active;
        }
        if (Object.keys(body).length === 0) return u;
        return api.patch(`/api/staff/users/${encodeURIComponent(u.id)}`, body);
      },
    });
    if (saved) {
      toast(t('staff.updated', { name: saved.name }), { type: 'success' });
      if (self) patchStaff({ name: saved.name, locale: saved.locale }); // the header shows the new name
      table.reload();
    }
  }

  return html`<${Page}
    title=${t('nav.staff')}
    subtitle=${t('staff.subtitle')}
    fill
    actions=${[canWrite && html`<${Button} label=${t('staff.add')} icon="plus" variant="primary" onClick=${openCreate} />`]}
    toolbar=${html`<${Toolbar}>
      <${SearchBox} value=${filters.q} placeholder=${t('staff.search')} onSearch=${(q) => applyFilters({ q })} />
      <${FilterSelect} label=${t('staff.col.role')} value=${filters.role} allLabel=${t('common.all')}
        options=${ROLE_NAMES.map((r) => ({ value: r, label: roleLabel(r) }))} onChange=${(role) => applyFilters({ role })} />
    <//>`}
  >
    <${DataTable}
      table=${table}
      label=${t('nav.staff')}
      columns=${columns}
      onRowClick=${canWrite ? openEdit : null}
      rowClass=${(u) => (u.is_active ? null : 'row--inactive')}
      empty=${() => (filters.q || filters.role ? t('staff.empty_filtered') : t('staff.empty'))}
    />
  <//>`;
}
