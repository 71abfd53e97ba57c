// "Send test mail": asks for a recipient (default: the staff member's own address), queues the
// mail (POST /api/mail/test) and follows the job. Used on the outbox and settings screens.
//
//   html`<${TestMailButton} onFinished=${(job) => table.reload()} />`   (nothing without mail:test)

import { html } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can, session } from '../session.js';
import { formDialog } from '../ui/dialog.js';
import { jobDialog } from '../ui/job-dialog.js';
import { Button } from '../ui/button.js';

export async function sendTestMail({ onFinished } = {}) {
  let to = '';
  const result = await formDialog({
    title: t('testmail.title'),
    intro: t('testmail.intro'),
    size: 'sm',
    testId: 'test-mail-dialog',
    fields: [{ name: 'to', type: 'email', label: t('testmail.to'), required: true, value: session.staff?.email || '', autocomplete: 'email' }],
    submitLabel: t('testmail.send'),
    onSubmit: (values) => {
      to = values.to;
      return api.post('/api/mail/test', { to });
    },
  });
  if (!result || !result.job) return null;
  const job = await jobDialog(result.job, {
    title: t('testmail.title'),
    messages: {
      running: t('testmail.running', { to }),
      done: can('outbox:read') ? t('testmail.done_outbox', { to }) : t('testmail.done', { to }),
      failed: t('testmail.failed'),
    },
  });
  onFinished?.(job);
  return job;
}

/** The button, or nothing when the staff member may not send test mail. */
export function TestMailButton({ onFinished }) {
  if (!can('mail:test')) return null;
  return html`<${Button} label=${t('testmail.button')} icon="send" onClick=${() => sendTestMail({ onFinished })} />`;
}
