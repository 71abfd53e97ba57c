// Background jobs (#/jobs?state=&kind=&page=&job=): what ran, what failed, and the jobs whose
// worker stopped mid-way ("uncertain"), which a person checks and then retries or closes.
// ?job=<id> opens that job's details (the job dialog of a test mail links here).

import { api, ApiError, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { JOB_KINDS, JOB_STATES, jobKindLabel, jobStateLabel, jobStateTone } from '../labels.js';
import { pollJob } from '../jobs.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { h, mount, uid } from '../ui/dom.js';
import { notice, page } from '../ui/page.js';
import { busy, button } from '../ui/button.js';
import { dataTable } from '../ui/table.js';
import { filterSelect, toolbar } from '../ui/toolbar.js';
import { badge, detailList, mono, time, twoLines } from '../ui/cells.js';
import { alert, confirm, openDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';

// The state filter lists the states that need a person first; their counts are shown.
const STATE_ORDER = ['uncertain', 'failed', 'queued', 'running', 'done', 'cancelled'];
const ATTENTION = ['uncertain', 'failed'];
// What staff may do from each state (the API refuses anything else with 409).
const RETRYABLE = new Set(['failed', 'uncertain']);
const CLOSABLE = new Set(['failed', 'uncertain']);
const CANCELLABLE = new Set(['queued']);

// Staff are recorded as "Name <mail@example.jp>".
const ACTOR = /^(.*\S)\s*<([^<>\s]+)>$/;

/** The requester as two lines (name, address) for the details. */
function actorCell(label) {
  const m = ACTOR.exec(label || '');
  return m ? twoLines(m[1], m[2]) : label || null;
}

/** When the job was created, and by whom (the name only; the full label on hover). */
function createdCell(job) {
  const m = ACTOR.exec(job.created_by || '');
  return h(
    'div',
    { class: 'two-lines' },
    h('span', time(job.created_at)),
    job.created_by && h('span', { class: 'two-lines__second', title: job.created_by }, m ? m[1] : job.created_by),
  );
}

function kindCell(job) {
  const label = jobKindLabel(job.kind);
  return label === job.kind ? mono(job.kind) : twoLines(label, job.kind);
}

/**
 * The kind with the job's summary beside it (e.g. "→ taro@example.jp": whom a mail was for; it
 * moves under the kind when the column is narrow), and under them the first line of the error
 * (the full texts are in the details).
 */
function kindAndErrorCell(job) {
  const label = jobKindLabel(job.kind);
  const error = job.state === 'uncertain' ? t('jobs.uncertain_reason') : (job.error || '').trim().split('\n')[0];
  return h(
    'div',
    { class: 'two-lines' },
    h(
      'span',
      { class: 'job-kind' },
      label === job.kind ? mono(job.kind) : h('span', { class: 'two-lines__first' }, label),
      job.summary && h('span', { class: 'job-summary', title: job.summary, 'data-testid': 'job-summary' }, job.summary),
    ),
    error
      ? h('span', { class: ['job-error', `job-error--${job.state}`], title: job.error || error }, error)
      : label !== job.kind && h('span', { class: 'two-lines__second' }, job.kind),
  );
}

function stateBadge(job) {
  return badge(jobStateLabel(job.state), jobStateTone(job.state));
}

/** All / uncertain / failed / … as toggle buttons; uncertain and failed carry their counts. */
function stateFilter({ value, onChange }) {
  const labelId = uid('state-filter');
  const options = new Map();
  const counts = new Map();
  for (const state of ['', ...STATE_ORDER]) {
    const attention = ATTENTION.includes(state);
    const count = attention ? h('span', { class: 'segmented__count', hidden: true }) : null;
    if (count) counts.set(state, count);
    options.set(
      state,
      h(
        'button',
        {
          type: 'button',
          class: ['segmented__option', attention && `segmented__option--${jobStateTone(state)}`],
          'aria-pressed': String(state === value),
          dataset: { state: state || 'all' },
          onclick: () => select(state),
        },
        attention && h('span', { class: 'segmented__dot', 'aria-hidden': 'true' }),
        state ? jobStateLabel(state) : t('common.all'),
        count,
      ),
    );
  }

  function select(state) {
    for (const [s, btn] of options) btn.setAttribute('aria-pressed', String(s === state));
    if (state !== value) {
      value = state;
      onChange(state);
    }
  }

  function setCounts(byState) {
    for (const [state, el] of counts) {
      const n = byState[state] || 0;
      el.hidden = n === 0;
      el.textContent = fmt.number(n);
    }
  }

  const el = h(
    'div',
    { class: 'filter filter--states' },
    h('span', { class: 'filter__label', id: labelId }, t('jobs.col.state')),
    h('div', { class: 'segmented', role: 'group', 'aria-labelledby': labelId }, [...options.values()]),
  );
  return { el, select, setCounts };
}

export default function jobsView(ctx) {
  const canWrite = can('jobs:write');
  const filters = {
    state: JOB_STATES.includes(ctx.query.state) ? ctx.query.state : '',
    kind: ctx.query.kind || '',
  };
  const banner = h('div', { class: 'page__banner' });
  const stateControl = stateFilter({ value: filters.state, onChange: (state) => applyFilters({ state }) });

  const columns = [
    { key: 'state', label: t('jobs.col.state'), nowrap: true, render: stateBadge },
    { key: 'kind', label: t('jobs.col.kind_error'), className: 'cell--job-kind', render: kindAndErrorCell },
    { key: 'created', label: t('jobs.col.created'), nowrap: true, render: createdCell },
    { key: 'finished_at', label: t('jobs.col.finished_at'), nowrap: true, render: (j) => time(j.finished_at) },
    { key: 'attempts', label: t('jobs.col.attempts'), align: 'end', nowrap: true, render: (j) => fmt.number(j.attempts) },
  ];
  if (canWrite) {
    columns.push({ key: 'actions', label: t('common.actions'), hideLabel: true, align: 'end', nowrap: true, render: rowActions });
  }

  const table = dataTable({
    label: t('nav.jobs'),
    columns,
    load: ({ page: p, perPage, signal }) => {
      refreshCounts(signal);
      return api.get('/api/jobs', { ...filters, page: p, per_page: perPage }, { signal });
    },
    page: Number(ctx.query.page) || 1,
    perPage: Number(ctx.query.per_page) || 50,
    onPageChange: ({ page: p, perPage }) => ctx.setQuery({ page: p, per_page: perPage }),
    onRowClick: openDetail,
    rowClass: (j) => (ATTENTION.includes(j.state) ? `row--${j.state}` : null),
    empty: () => (filters.state || filters.kind ? t('jobs.empty_filtered') : t('jobs.empty')),
    signal: ctx.signal,
  });

  function applyFilters(patch) {
    Object.assign(filters, patch);
    ctx.setQuery({ ...patch, page: null });
    table.reload({ page: 1 });
  }

  // Uncertain and failed jobs in total (whatever the filters): the counts and the notice.
  async function refreshCounts(signal) {
    try {
      const pages = await Promise.all(ATTENTION.map((state) => api.get('/api/jobs', { state, per_page: 1 }, { signal })));
      const counts = Object.fromEntries(ATTENTION.map((state, i) => [state, Number(pages[i].total) || 0]));
      stateControl.setCounts(counts);
      renderBanner(counts.uncertain);
    } catch (err) {
      if (!isAbort(err)) console.warn('job counts', err); // the table shows the error that matters
    }
  }

  function renderBanner(uncertain) {
    const callout =
      uncertain > 0 &&
      notice({
          tone: 'warning',
          title: t('jobs.uncertain_title', { count: fmt.number(uncertain) }),
          message: canWrite ? t('jobs.uncertain_notice') : t('jobs.uncertain_notice_readonly'),
          children:
            filters.state !== 'uncertain' &&
          h('div', { class: 'notice__actions' }, button({ label: t('jobs.show_uncertain'), size: 'sm', onClick: () => stateControl.select('uncertain') })),
      });
    if (callout) callout.dataset.testid = 'jobs-uncertain-notice';
    mount(banner, callout);
  }

  function reloadAll() {
    table.reload();
  }

  function rowActions(job) {
    const list = [];
    if (RETRYABLE.has(job.state)) list.push(button({ label: t('jobs.retry'), icon: 'refresh', size: 'sm', onClick: (e) => act(job, 'retry', e.currentTarget) }));
    if (CLOSABLE.has(job.state)) list.push(button({ label: t('jobs.close'), size: 'sm', variant: 'ghost', onClick: (e) => act(job, 'close', e.currentTarget) }));
    if (CANCELLABLE.has(job.state)) list.push(button({ label: t('jobs.cancel'), size: 'sm', variant: 'danger-ghost', onClick: (e) => act(job, 'cancel', e.currentTarget) }));
    return h('div', { class: 'row-actions' }, list);
  }

  function confirmOptions(job, action) {
    const kind = jobKindLabel(job.kind);
    if (action === 'retry') {
      const uncertain = job.state === 'uncertain';
      const warning = job.kind.startsWith('mail.') ? t('jobs.retry_uncertain_mail') : t('jobs.retry_uncertain');
      return {
        title: uncertain ? t('jobs.retry_uncertain_title') : t('jobs.retry_title'),
        message: uncertain ? `${t('jobs.retry_message', { kind })}\n\n${warning}` : t('jobs.retry_message', { kind }),
        confirmLabel: t('jobs.retry_confirm'),
        danger: uncertain,
      };
    }
    if (action === 'close') {
      return { title: t('jobs.close_title'), message: t('jobs.close_message', { kind }), confirmLabel: t('jobs.close') };
    }
    return { title: t('jobs.cancel_title'), message: t('jobs.cancel_message', { kind }), confirmLabel: t('jobs.cancel_confirm'), cancelLabel: t('jobs.cancel_keep'), danger: true };
  }

  /** Retry / close / cancel after a confirmation. Resolves 'done', 'conflict' or null. */
  async function act(job, action, btn) {
    if (!(await confirm(confirmOptions(job, action)))) return null;
    const path = `/api/jobs/${encodeURIComponent(job.id)}/${action === 'retry' ? 'retry' : 'cancel'}`;
    try {
      const request = api.post(path);
      const updated = await (btn && document.contains(btn) ? busy(btn, request) : request);
      const kind = jobKindLabel(job.kind);
      const message = { retry: t('jobs.retried', { kind }), close: t('jobs.closed', { kind }), cancel: t('jobs.cancelled', { kind }) }[action];
      toast(message, { type: 'success' });
      reloadAll();
      if (action === 'retry') follow(updated);
      return 'done';
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // Someone (or a worker) got there first: show the job as it is now, and say so plainly.
        reloadAll();
        await alert({ title: t('jobs.conflict_title'), message: errorText(err) });
        return 'conflict';
      }
      toast(errorText(err), { type: 'error' });
      return null;
    }
  }

  /** After a retry: watch the job and refresh the list when it has run. */
  function follow(job) {
    pollJob(job.id, { signal: ctx.signal, timeout: 120000 })
      .then((j) => {
        if (ctx.signal.aborted) return;
        reloadAll();
        const kind = jobKindLabel(j.kind);
        if (j.state === 'done') toast(t('jobs.retry_done', { kind }), { type: 'success' });
        else if (j.state === 'failed' || j.state === 'uncertain') toast(t('jobs.retry_failed', { kind }), { type: 'error' });
      })
      .catch((err) => {
        if (!isAbort(err)) console.warn('following job', err);
      });
  }

  function openDetail(job) {
    ctx.setQuery({ job: job.id });
    const actions = [{ label: t('common.close'), onClick: (close) => close() }];
    const run = (action) => async (close) => {
      if (await act(job, action)) close();
    };
    if (canWrite && CLOSABLE.has(job.state)) actions.push({ label: t('jobs.close'), onClick: run('close') });
    if (canWrite && CANCELLABLE.has(job.state)) actions.push({ label: t('jobs.cancel'), variant: 'danger', onClick: run('cancel') });
    if (canWrite && RETRYABLE.has(job.state)) actions.push({ label: t('jobs.retry'), variant: 'primary', onClick: run('retry') });

    const dlg = openDialog({
      title: t('jobs.detail_title'),
      size: 'lg',
      testId: 'job-detail',
      body: h(
        'div',
        { class: 'stack' },
        job.state === 'uncertain' &&
          notice({ tone: 'warning', title: t('jobs.uncertain_reason'), message: canWrite ? t('jobs.uncertain_notice') : t('jobs.uncertain_notice_readonly') }),
        detailList([
          [t('jobs.col.state'), stateBadge(job)],
          [t('jobs.col.kind'), kindCell(job)],
          job.summary && [t('jobs.col.summary'), h('span', { class: 'job-summary-detail' }, job.summary)],
          [t('jobs.col.id'), mono(job.id)],
          [t('jobs.col.created_by'), actorCell(job.created_by)],
          [t('common.created_at'), time(job.created_at)],
          [t('jobs.col.updated_at'), time(job.updated_at)],
          [t('jobs.col.finished_at'), time(job.finished_at)],
          [t('jobs.col.attempts'), fmt.number(job.attempts)],
        ]),
        job.error && [h('h3', { class: 'subheading' }, t('jobs.col.error')), h('pre', { class: 'code-block job-text' }, job.error)],
        job.result && [h('h3', { class: 'subheading' }, t('jobs.result')), h('pre', { class: 'code-block job-text' }, JSON.stringify(job.result, null, 2))],
      ),
      actions,
    });
    dlg.result.then(() => {
      if (!ctx.signal.aborted) ctx.setQuery({ job: null });
    });
  }

  // Opened from a link to one job (#/jobs?job=<id>).
  if (ctx.query.job) {
    api
      .get(`/api/jobs/${encodeURIComponent(ctx.query.job)}`, null, { signal: ctx.signal })
      .then(openDetail)
      .catch((err) => {
        if (isAbort(err)) return;
        ctx.setQuery({ job: null });
        toast(errorText(err), { type: 'error' });
      });
  }

  const kindOptions = Object.keys(JOB_KINDS).map((k) => ({ value: k, label: jobKindLabel(k) }));
  if (filters.kind && !Object.hasOwn(JOB_KINDS, filters.kind)) kindOptions.push({ value: filters.kind, label: filters.kind });

  return page({
    title: t('nav.jobs'),
    subtitle: t('jobs.subtitle'),
    actions: [button({ label: t('common.refresh'), icon: 'refresh', variant: 'ghost', onClick: reloadAll })],
    toolbar: toolbar(
      stateControl.el,
      filterSelect({ label: t('jobs.col.kind'), value: filters.kind, allLabel: t('common.all'), options: kindOptions, onChange: (kind) => applyFilters({ kind }) }),
    ),
    body: [banner, table.el],
    fill: true,
  });
}
