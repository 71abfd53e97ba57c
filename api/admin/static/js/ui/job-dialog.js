// Follows a background job in a dialog until it finishes.
//
//   const job = await jobDialog(result.job, {
//     title: t('testmail.title'),
//     messages: { running: t('testmail.running'), done: t('testmail.done', { to }) },
//   });
//
// Shows a spinner while queued/running, then the outcome: done, failed (with job.error),
// uncertain or cancelled. Closing the dialog stops polling (the job itself carries on).
// Resolves with the last job state seen.

import { h, mount } from './dom.js';
import { openDialog } from './dialog.js';
import { notice } from './page.js';
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
  const body = h('div', { class: 'job', role: 'status', 'aria-live': 'polite' });
  let last = job;

  function render(j, extra) {
    last = j;
    const finished = isFinished(j);
    let message;
    if (extra) message = extra;
    else if (j.state === 'done') message = notice({ tone: 'success', message: messages.done || t('job.done') });
    else if (j.state === 'failed') message = notice({ tone: 'danger', title: messages.failed || t('job.failed'), message: j.error || null });
    else if (j.state === 'uncertain') message = notice({ tone: 'warning', message: t('job.uncertain_help') });
    else if (j.state === 'cancelled') message = notice({ tone: 'info', message: t('job.cancelled_help') });
    else message = h('p', { class: 'job__running' }, h('span', { class: 'spinner' }), messages.running || t('job.running'));
    // Failed and uncertain jobs need a person: point to the jobs screen, where they can be retried.
    const followUp = (j.state === 'failed' || j.state === 'uncertain') && can('jobs:read')
      && h('p', h('a', { href: href('/jobs', { job: j.id }), onclick: () => dlg.close() }, t('job.open_in_jobs')));
    mount(body, h('p', { class: 'job__state' }, t('job.state'), ' ', badge(jobStateLabel(j.state), jobStateTone(j.state))), message, followUp);
    if (finished) dlg.setActions([{ label: t('common.close'), variant: 'primary', onClick: (close) => close(), autofocus: true }]);
  }

  const dlg = openDialog({
    title,
    size: 'sm',
    body,
    actions: [{ label: t('common.close'), onClick: (close) => close() }],
  });
  dlg.result.then(() => controller.abort());

  render(job);
  const done = isFinished(job)
    ? Promise.resolve(job)
    : pollJob(job.id, { signal: controller.signal, onUpdate: (j) => render(j) })
        .then((j) => {
          if (!isFinished(j)) render(j, notice({ tone: 'info', message: t('job.still_running') }));
          return j;
        })
        .catch((err) => {
          if (isAbort(err)) return last;
          // e.g. 403 without jobs:read: the job was accepted, we just cannot watch it.
          render(last, notice({ tone: err.status === 403 ? 'info' : 'danger', message: err.status === 403 ? t('job.cannot_watch') : errorText(err) }));
          dlg.setActions([{ label: t('common.close'), variant: 'primary', onClick: (close) => close() }]);
          return last;
        });
  return Promise.all([done, dlg.result]).then(() => last);
}
