// Dev outbox (#/outbox): mails captured instead of being sent. Open one to see it.

import { api } from '../api.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { h, mount } from '../ui/dom.js';
import { notice, page } from '../ui/page.js';
import { button } from '../ui/button.js';
import { dataTable } from '../ui/table.js';
import { time, twoLines } from '../ui/cells.js';
import { confirm } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { errorText } from '../errors.js';
import { testMailButton } from '../actions/test-mail.js';
import { can } from '../session.js';

export default function outboxView(ctx) {
  const banner = h('div', { class: 'page__banner' });
  const clearButton = button({ label: t('outbox.clear'), icon: 'trash', variant: 'danger-ghost', onClick: clearAll });

  const table = dataTable({
    label: t('nav.outbox'),
    columns: [
      { key: 'at', label: t('outbox.col.at'), nowrap: true, render: (m) => time(m.at) },
      { key: 'subject', label: t('outbox.col.subject'), render: (m) => twoLines(m.subject || t('outbox.no_subject'), t('outbox.from_line', { from: fmt.addressList(m.from) })) },
      { key: 'to', label: t('outbox.col.to'), render: (m) => fmt.addressList(m.to) },
      { key: 'size', label: t('outbox.col.size'), align: 'end', nowrap: true, render: (m) => fmt.bytes(m.size) },
    ],
    load: async ({ page: p, perPage, signal }) => {
      const data = await api.get('/api/outbox', { page: p, per_page: perPage }, { signal });
      showEnabled(data.enabled !== false, data.total);
      return data;
    },
    page: Number(ctx.query.page) || 1,
    perPage: Number(ctx.query.per_page) || 50,
    onPageChange: ({ page: p, perPage }) => ctx.setQuery({ page: p, per_page: perPage }),
    onRowClick: (m) => ctx.navigate(`/outbox/${encodeURIComponent(m.id)}`),
    empty: t('outbox.empty'),
    signal: ctx.signal,
  });

  function showEnabled(enabled, total) {
    mount(banner, !enabled && notice({ tone: 'info', title: t('outbox.disabled_title'), message: t('outbox.disabled') }));
    table.el.hidden = !enabled;
    clearButton.hidden = !enabled || !total || !can('outbox:write'); // emptying it is for admins
  }

  async function clearAll() {
    const ok = await confirm({ title: t('outbox.clear_title'), message: t('outbox.clear_message', { count: table.total }), confirmLabel: t('outbox.clear'), danger: true });
    if (!ok) return;
    try {
      await api.del('/api/outbox');
      toast(t('outbox.cleared'), { type: 'success' });
      table.reload({ page: 1 });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  clearButton.hidden = true;
  return page({
    title: t('nav.outbox'),
    subtitle: t('outbox.subtitle'),
    actions: [
      button({ label: t('common.refresh'), icon: 'refresh', variant: 'ghost', onClick: () => table.reload() }),
      clearButton,
      testMailButton({ onFinished: () => table.reload({ page: 1 }) }),
    ].filter(Boolean),
    body: [banner, table.el],
    fill: true,
  });
}
