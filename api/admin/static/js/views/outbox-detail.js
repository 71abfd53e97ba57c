// One captured mail (#/outbox/<id>): HTML (sandboxed iframe), text and headers; .eml download.
// load() fetches the mail before the screen shows (an unknown id shows the error page).

import { html } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { Page } from '../ui/page.js';
import { LinkButton } from '../ui/button.js';
import { detailList, time } from '../ui/cells.js';
import { Tabs } from '../ui/tabs.js';

export function load(ctx) {
  return api.get(`/api/outbox/${encodeURIComponent(ctx.params.id)}`, null, { signal: ctx.signal });
}

export default function OutboxDetailView({ ctx, data: mail }) {
  const id = encodeURIComponent(ctx.params.id);

  // Empty sandbox: no scripts, no same-origin, no forms, no top navigation.
  const htmlPanel = () => html`<iframe sandbox="" src=${`/api/outbox/${id}/html`} title=${t('outbox.html_frame', { subject: mail.subject || '' })}
    class="mail-frame" referrerpolicy="no-referrer" loading="lazy"></iframe>`;
  const textPanel = () => (mail.text ? html`<pre class="mail-text">${mail.text}</pre>` : html`<p class="muted panel-pad">${t('outbox.no_text')}</p>`);
  const headersPanel = () => html`<div class="table-scroll table-scroll--plain">
    <table class="table table--compact table--headers">
      <thead><tr><th scope="col">${t('outbox.header_name')}</th><th scope="col">${t('outbox.header_value')}</th></tr></thead>
      <tbody>
        ${(mail.headers || []).map(([name, value]) => html`<tr><th scope="row"><code class="mono">${name}</code></th><td><code class="mono mono--wrap">${value}</code></td></tr>`)}
      </tbody>
    </table>
  </div>`;

  return html`<${Page}
    title=${mail.subject || t('outbox.no_subject')}
    back=${{ href: '#/outbox', label: t('nav.outbox') }}
    actions=${[html`<${LinkButton} href=${`/api/outbox/${id}/raw`} label=${t('outbox.download')} icon="download" download=${`${ctx.params.id}.eml`} />`]}
  >
    <div class="stack">
      <div class="card">
        ${detailList([
          [t('outbox.col.from'), fmt.addressList(mail.from)],
          [t('outbox.col.to'), fmt.addressList(mail.to)],
          fmt.addressList(mail.cc) !== fmt.EMPTY ? [t('outbox.col.cc'), fmt.addressList(mail.cc)] : null,
          [t('outbox.col.at'), time(mail.at)],
        ])}
      </div>
      <div class="card card--flush">
        <${Tabs}
          label=${t('outbox.tabs')}
          selected=${mail.has_html ? 'html' : 'text'}
          items=${[
            { id: 'html', label: t('outbox.tab.html'), render: htmlPanel, disabled: !mail.has_html },
            { id: 'text', label: t('outbox.tab.text'), render: textPanel },
            { id: 'headers', label: t('outbox.tab.headers'), render: headersPanel },
          ]}
        />
      </div>
    </div>
  <//>`;
}
