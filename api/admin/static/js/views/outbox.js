// Dev outbox (#/outbox): mails captured instead of being sent. Open one to see it.

import { html, signal, useConst } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { time, twoLines } from '../ui/cells.js';
import { confirm } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { errorText } from '../errors.js';
import { TestMailButton } from '../actions/test-mail.js';
import { can } from '../session.js';

function createOutbox(ctx) {
  const enabled = signal(true);
  const table = createTable({
    load: async ({ page, perPage, signal: s }) => {
      const data = await api.get('/api/outbox', { page, per_page: perPage }, { signal: s });
      enabled.value = data.enabled !== false;
      return data;
    },
    page: Number(ctx.query.page) || 1,
    perPage: Number(ctx.query.per_page) || 50,
    onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
    signal: ctx.signal,
  });

  async function clearAll() {
    const ok = await confirm({ title: t('outbox.clear_title'), message: t('outbox.clear_message', { count: table.total.value }), confirmLabel: t('outbox.clear'), danger: true });
    if (!ok) return;
    try {
      await api.del('/api/outbox');
      toast(t('outbox.cleared'), { type: 'success' });
      table.reload({ page: 1 });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  return { enabled, table, clearAll };
}

function ClearButton({ outbox }) {
  // Emptying the outbox (outbox:write) is for admins.
  if (!outbox.enabled.value || !outbox.table.total.value || !can('outbox:write')) return null;
  return html`<${Button} label=${t('outbox.clear')} icon="trash" variant="danger-ghost" onClick=${outbox.clearAll} />`;
}

function Body({ outbox, columns, ctx }) {
  const enabled = outbox.enabled.value;
  return html`
    ${!enabled && html`<div class="page__banner"><${Notice} tone="info" title=${t('outbox.disabled_title')} message=${t('outbox.disabled')} /></div>`}
    <${DataTable}
      table=${outbox.table}
      hidden=${!enabled}
      label=${t('nav.outbox')}
      columns=${columns}
      onRowClick=${(m) => ctx.navigate(`/outbox/${encodeURIComponent(m.id)}`)}
      empty=${t('outbox.empty')}
    />
  `;
}

export default function OutboxView({ ctx }) {
  const outbox = useConst(() => createOutbox(ctx));
  const columns = [
    { key: 'at', label: t('outbox.col.at'), nowrap: true, render: (m) => time(m.at) },
    { key: 'subject', label: t('outbox.col.subject'), render: (m) => twoLines(m.subject || t('outbox.no_subject'), t('outbox.from_line', { from: fmt.addressList(m.from) })) },
    { key: 'to', label: t('outbox.col.to'), render: (m) => fmt.addressList(m.to) },
    { key: 'size', label: t('outbox.col.size'), align: 'end', nowrap: true, render: (m) => fmt.bytes(m.size) },
  ];
  return html`<${Page}
    title=${t('nav.outbox')}
    subtitle=${t('outbox.subtitle')}
    fill
    actions=${[
      html`<${Button} label=${t('common.refresh')} icon="refresh" variant="ghost" onClick=${() => outbox.table.reload()} />`,
      html`<${ClearButton} outbox=${outbox} />`,
      html`<${TestMailButton} onFinished=${() => outbox.table.reload({ page: 1 })} />`,
    ]}
  >
    <${Body} outbox=${outbox} columns=${columns} ctx=${ctx} />
  <//>`;
}
