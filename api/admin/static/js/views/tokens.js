// API tokens for integrations (#/tokens): list, create (the secret is shown once), revoke.

import { html, useConst } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { roleLabel, roleOptions } from '../labels.js';
import { isPast } from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { badge, mono, muted, time, twoLines } from '../ui/cells.js';
import { confirm, formDialog, openDialog } from '../ui/dialog.js';
import { CopyField } from '../ui/copy.js';
import { toast } from '../ui/toast.js';
import { errorText } from '../errors.js';

function tokenStatus(tok) {
  if (tok.revoked_at) return badge(t('tokens.status.revoked'), 'danger');
  if (tok.expires_at && isPast(tok.expires_at)) return badge(t('tokens.status.expired'), 'warning');
  return badge(t('tokens.status.active'), 'success');
}

function isActive(tok) {
  return !tok.revoked_at && !(tok.expires_at && isPast(tok.expires_at));
}

function showSecret(result) {
  openDialog({
    title: t('tokens.secret_title'),
    testId: 'token-secret',
    body: html`<div class="stack">
      <${Notice} tone="warning" title=${t('tokens.secret_warning_title')} message=${t('tokens.secret_warning')} />
      <${CopyField} label=${t('tokens.secret_label', { name: result.token.name })} value=${result.secret} mono />
      <p class="muted">${t('tokens.secret_usage')}</p>
      <pre class="code-block">${`Authorization: Bearer ${result.secret.slice(0, 6)}…`}</pre>
    </div>`,
    dismissible: false, // the secret cannot be shown again: close only on purpose
    actions: [{ label: t('tokens.secret_done'), variant: 'primary', onClick: (close) => close() }],
  });
}

export default function TokensView({ ctx }) {
  const canWrite = can('tokens:write');
  const table = useConst(() =>
    createTable({
      load: ({ page, perPage, signal }) => api.get('/api/staff/tokens', { page, per_page: perPage }, { signal }),
      page: Number(ctx.query.page) || 1,
      perPage: Number(ctx.query.per_page) || 50,
      onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
      signal: ctx.signal,
    }),
  );

  async function revoke(tok) {
    const ok = await confirm({
      title: t('tokens.revoke_title'),
      message: t('tokens.revoke_message', { name: tok.name }),
      confirmLabel: t('tokens.revoke'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/api/staff/tokens/${encodeURIComponent(tok.id)}`);
      toast(t('tokens.revoked', { name: tok.name }), { type: 'success' });
      table.reload();
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  async function openCreate() {
    const result = await formDialog({
      title: t('tokens.add_title'),
      intro: t('tokens.add_intro'),
      testId: 'token-create',
      fields: [
        { name: 'name', type: 'text', label: t('tokens.field.name'), required: true, maxlength: 100, placeholder: t('tokens.field.name_placeholder') },
        { name: 'role', type: 'select', label: t('tokens.field.role'), options: await roleOptions(), value: 'viewer', help: t('tokens.field.role_help') },
        {
          name: 'expires_in_days',
          type: 'select',
          label: t('tokens.field.expires'),
          value: 90,
          options: [
            { value: 30, label: t('tokens.expires_days', { days: 30 }) },
            { value: 90, label: t('tokens.expires_days', { days: 90 }) },
            { value: 180, label: t('tokens.expires_days', { days: 180 }) },
            { value: 365, label: t('tokens.expires_days', { days: 365 }) },
            { value: null, label: t('tokens.never') },
          ],
        },
      ],
      submitLabel: t('tokens.add'),
      onSubmit: (values) => api.post('/api/staff/tokens', values),
    });
    if (result) {
      table.reload();
      showSecret(result);
    }
  }

  const columns = [
    { key: 'name', label: t('tokens.col.name'), render: (tok) => twoLines(tok.name, tok.created_by ? t('tokens.created_by', { name: tok.created_by.name }) : null) },
    { key: 'prefix', label: t('tokens.col.prefix'), nowrap: true, render: (tok) => mono(`${tok.prefix}…`) },
    { key: 'role', label: t('tokens.col.role'), nowrap: true, render: (tok) => badge(roleLabel(tok.role)) },
    { key: 'status', label: t('tokens.col.status'), nowrap: true, render: tokenStatus },
    { key: 'last_used_at', label: t('tokens.col.last_used'), nowrap: true, render: (tok) => time(tok.last_used_at) },
    { key: 'expires_at', label: t('tokens.col.expires'), nowrap: true, render: (tok) => (tok.expires_at ? time(tok.expires_at) : muted(t('tokens.never'))) },
    { key: 'created_at', label: t('common.created_at'), nowrap: true, render: (tok) => time(tok.created_at) },
  ];
  if (canWrite) {
    columns.push({
      key: 'actions',
      label: t('common.actions'),
      hideLabel: true,
      align: 'end',
      render: (tok) => isActive(tok) && html`<${Button} label=${t('tokens.revoke')} size="sm" variant="danger-ghost" onClick=${() => revoke(tok)} />`,
    });
  }

  return html`<${Page}
    title=${t('nav.tokens')}
    subtitle=${t('tokens.subtitle')}
    fill
    actions=${[canWrite && html`<${Button} label=${t('tokens.add')} icon="plus" variant="primary" onClick=${openCreate} />`]}
  >
    <${DataTable} table=${table} label=${t('nav.tokens')} columns=${columns} rowClass=${(tok) => (isActive(tok) ? null : 'row--inactive')} empty=${t('tokens.empty')} />
  <//>`;
}
