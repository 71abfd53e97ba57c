// One captured mail (#/outbox/<id>): HTML (sandboxed iframe), text and headers; .eml download.

import { api } from '../api.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { h } from '../ui/dom.js';
import { page } from '../ui/page.js';
import { linkButton } from '../ui/button.js';
import { detailList, time } from '../ui/cells.js';
import { tabs } from '../ui/tabs.js';

export default async function outboxDetailView(ctx) {
  const id = encodeURIComponent(ctx.params.id);
  const mail = await api.get(`/api/outbox/${id}`, null, { signal: ctx.signal });

  const htmlPanel = () =>
    h('iframe', {
      // Empty sandbox: no scripts, no same-origin, no forms, no top navigation.
      sandbox: '',
      src: `/api/outbox/${id}/html`,
      title: t('outbox.html_frame', { subject: mail.subject || '' }),
      class: 'mail-frame',
      referrerpolicy: 'no-referrer',
      loading: 'lazy',
    });
  const textPanel = () => (mail.text ? h('pre', { class: 'mail-text' }, mail.text) : h('p', { class: 'muted panel-pad' }, t('outbox.no_text')));
  const headersPanel = () =>
    h(
      'div',
      { class: 'table-scroll table-scroll--plain' },
      h(
        'table',
        { class: 'table table--compact table--headers' },
        h('thead', h('tr', h('th', { scope: 'col' }, t('outbox.header_name')), h('th', { scope: 'col' }, t('outbox.header_value')))),
        h('tbody', (mail.headers || []).map(([name, value]) => h('tr', h('th', { scope: 'row' }, h('code', { class: 'mono' }, name)), h('td', h('code', { class: 'mono mono--wrap' }, value))))),
      ),
    );

  return page({
    title: mail.subject || t('outbox.no_subject'),
    back: { href: '#/outbox', label: t('nav.outbox') },
    actions: [linkButton({ href: `/api/outbox/${id}/raw`, label: t('outbox.download'), icon: 'download', download: `${ctx.params.id}.eml` })],
    body: h(
      'div',
      { class: 'stack' },
      h(
        'div',
        { class: 'card' },
        detailList([
          [t('outbox.col.from'), fmt.addressList(mail.from)],
          [t('outbox.col.to'), fmt.addressList(mail.to)],
          fmt.addressList(mail.cc) !== fmt.EMPTY ? [t('outbox.col.cc'), fmt.addressList(mail.cc)] : null,
          [t('outbox.col.at'), time(mail.at)],
        ]),
      ),
      h(
        'div',
        { class: 'card card--flush' },
        tabs(
          [
            { id: 'html', label: t('outbox.tab.html'), render: htmlPanel, disabled: !mail.has_html },
            { id: 'text', label: t('outbox.tab.text'), render: textPanel },
            { id: 'headers', label: t('outbox.tab.headers'), render: headersPanel },
          ],
          { selected: mail.has_html ? 'html' : 'text', label: t('outbox.tabs') },
        ).el,
      ),
    ),
  });
}
