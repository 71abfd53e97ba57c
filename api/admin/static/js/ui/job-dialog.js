// Follows a background job in a dialog until it finishes.
//
//   const job = await jobDialog(result.job, {
//     title: t('testmail.title'),
//     messages: { running: t('testmail.running'), done: t('testmail.done', { to }) },
//   });
//
// Shows a spinner while queued/running, then the outcome: done, failed (with job.error),
// uncertain or cancelled. Closing the dialog stops polling (the job itself carries on).
// Resolves with the last job state seen. The dialog's body is a component that follows two
// signals (the job, and an extra message); the polling only sets them.

import { html, signal } from '../lib.js';
import { openDialog } from './dialog.js';
import { Notice } from './page.js';
import { badge } from './cells.js';
import { isAbort } from '../api.js';
import { pollJob, isFinished } from '../jobs.js';
import { errorText } from '../errors.js';
import { jobStateLabel, jobStateTone } from '../labels.js';
import { can } from '../session.js';
import { href } from '../router.js';
import { t } from '../i18n.js';

export function jobDialog(job, { title, messages = {} } = {}) {
  const controller = new AbortController();
  const current = signal(job);
  const extra = signal(null); // { tone, message } shown instead of the state's own message
  const closeOnly = [{ label: t('common.close'), onClick: (close) => close() }];
  const finished = [{ label: t('common.close'), variant: 'primary', onClick: (close) => close(), autofocus: true }];

  function Status({ close }) {
    const j = current.value;
    const x = extra.value;
    let message;
    if (x) message = html`<${Notice} tone=${x.tone} message=${x.message} />`;
    else if (j.state === 'done') message = html`<${Notice} tone="success" message=${messages.done || t('job.done')} />`;
    else if (j.state === 'failed') message = html`<${Notice} tone="danger" title=${messages.failed || t('job.failed')} message=${j.error || null} />`;
    else if (j.state === 'uncertain') message = html`<${Notice} tone="warning" message=${t('job.uncertain_help')} />`;
    else if (j.state === 'cancelled') message = html`<${Notice} tone="info" message=${t('job.cancelled_help')} />`;
    else message = html`<p class="job__running"><span class="spinner"></span>${messages.running || t('job.running')}</p>`;
    // Failed and uncertain jobs need a person: point to the jobs screen, where they can be retried.
    const followUp = (j.state === 'failed' || j.state === 'uncertain') && can('jobs:read');
    return html`<div class="job" role="status" aria-live="polite">
      <p class="job__state">${t('job.state')} ${badge(jobStateLabel(j.state), jobStateTone(j.state))}</p>
      ${message}
      ${followUp && html`<p><a href=${href('/jobs', { job: j.id })} onClick=${() => close()}>${t('job.open_in_jobs')}</a></p>`}
    </div>`;
  }

  const dlg = openDialog({ title, size: 'sm', body: Status, actions: isFinished(job) ? finished : closeOnly });
  dlg.result.then(() => controller.abort());

  const done = isFinished(job)
    ? Promise.resolve(job)
    : pollJob(job.id, {
        signal: controller.signal,
        onUpdate: (j) => {
          current.value = j;
          if (isFinished(j)) dlg.setActions(finished);
        },
      })
        .then((j) => {
          if (!isFinished(j)) extra.value = { tone: 'info', message: t('job.still_running') };
          return j;
        })
        .catch((err) => {
          if (isAbort(err)) return current.value;
          // e.g. 403 without jobs:read: the job was accepted, we just cannot watch it.
          extra.value = err.status === 403 ? { tone: 'info', message: t('job.cannot_watch') } : { tone: 'danger', message: errorText(err) };
          dlg.setActions(finished);
          return current.value;
        });
  return Promise.all([done, dlg.result]).then(() => current.value);
}
