// Background jobs (#/jobs?state=&kind=&page=&job=): what ran, what failed, and the jobs whose
// worker stopped mid-way ("uncertain"), which a person checks and then retries or closes.
// ?job=<id> opens that job's details (the job dialog of a test mail links here).

import { html, signal, useConst, useEffect, useSignal } from '../lib.js';
import { api, ApiError, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { JOB_STATES, jobKindLabel, jobKindNames, jobStateLabel, jobStateTone, loadJobKinds } from '../labels.js';
import { pollJob } from '../jobs.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { FilterSelect, Toolbar } from '../ui/toolbar.js';
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
  return html`<div class="two-lines">
    <span>${time(job.created_at)}</span>
    ${job.created_by && html`<span class="two-lines__second" title=${job.created_by}>${m ? m[1] : job.created_by}</span>`}
  </div>`;
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
  return html`<div class="two-lines">
    <span class="job-kind">
      ${label === job.kind ? mono(job.kind) : html`<span class="two-lines__first">${label}</span>`}
      ${job.summary && html`<span class="job-summary" title=${job.summary} data-testid="job-summary">${job.summary}</span>`}
    </span>
    ${error
      ? html`<span class=${`job-error job-error--${job.state}`} title=${job.error || error}>${error}</span>`
      : label !== job.kind && html`<span class="two-lines__second">${job.kind}</span>`}
  </div>`;
}

/** Units finished of all (recipients, chunks), for jobs split into units. */
function progressCell(job) {
  const p = job.progress || {};
  if (!p.total) return null;
  return html`<span class="job-progress" title=${t('jobs.col.progress')}>
    <progress max=${p.total} value=${p.finished}></progress>
    <span>${t('jobs.progress_value', { finished: fmt.number(p.finished), total: fmt.number(p.total) })}</span>
  </span>`;
}

/**
 * The units a person must look at (uncertain: may or may not have happened; failed: did not),
 * each with its key (the recipient) and reason. Loaded when the details open.
 */
function UnitsToCheck({ job, signal: abort }) {
  const units = useSignal(null);
  const error = useSignal(null);
  useEffect(() => {
    const states = ['uncertain', 'failed'];
    Promise.all(states.map((state) => api.get(`/api/jobs/${encodeURIComponent(job.id)}/units`, { state, per_page: 100 }, { signal: abort })))
      .then((pages) => {
        units.value = pages.flatMap((page) => page.items);
        const more = pages.reduce((n, page) => n + Math.max(0, page.total - page.items.length), 0);
        error.value = more > 0 ? t('jobs.units_more', { count: fmt.number(more) }) : null;
      })
      .catch((err) => {
        if (!isAbort(err)) error.value = errorText(err);
      });
  }, [job.id]);
  if (units.value === null) return error.value ? html`<p class="muted">${error.value}</p>` : null;
  if (units.value.length === 0) return null;
  return html`<section class="stack" data-testid="job-units">
    <h3 class="subheading">${t('jobs.units_title')}</h3>
    <table class="table table--compact">
      <thead><tr><th scope="col">${t('jobs.units_key')}</th><th scope="col">${t('jobs.col.state')}</th><th scope="col">${t('jobs.col.error')}</th></tr></thead>
      <tbody>
        ${units.value.map((u) => html`<tr key=${u.seq}>
          <td>${u.key}</td>
          <td>${badge(jobStateLabel(u.state), jobStateTone(u.state))}</td>
          <td class="job-text">${u.error || ''}</td>
        </tr>`)}
      </tbody>
    </table>
    ${error.value && html`<p class="muted">${error.value}</p>`}
  </section>`;
}

function stateBadge(job) {
  return badge(jobStateLabel(job.state), jobStateTone(job.state));
}

/** All / uncertain / failed / … as toggle buttons; uncertain and failed carry their counts. */
function StateFilter({ value, counts, onSelect }) {
  const current = value.value;
  const byState = counts.value;
  return html`<div class="filter filter--states">
    <span class="filter__label" id="jobs-state-filter">${t('jobs.col.state')}</span>
    <div class="segmented" role="group" aria-labelledby="jobs-state-filter">
      ${['', ...STATE_ORDER].map((state) => {
        const attention = ATTENTION.includes(state);
        const n = byState[state] || 0;
        return html`<button type="button" class=${`segmented__option${attention ? ` segmented__option--${jobStateTone(state)}` : ''}`}
          aria-pressed=${String(state === current)} data-state=${state || 'all'} onClick=${() => onSelect(state)}>
          ${attention && html`<span class="segmented__dot" aria-hidden="true"></span>`}
          ${state ? jobStateLabel(state) : t('common.all')}
          ${attention && html`<span class="segmented__count" hidden=${n === 0}>${fmt.number(n)}</span>`}
        </button>`;
      })}
    </div>
  </div>`;
}

/** The state of the screen, made once per visit. */
function createJobs(ctx) {
  const canWrite = can('jobs:write');
  const filters = { kind: ctx.query.kind || '' };
  const state = signal(JOB_STATES.includes(ctx.query.state) ? ctx.query.state : '');
  const counts = signal({});
  const pending = signal(null); // "<job id>:<action>" while that request runs

  // Uncertain and failed jobs in total (whatever the filters): the counts and the notice.
  async function refreshCounts(signal_) {
    try {
      const pages = await Promise.all(ATTENTION.map((s) => api.get('/api/jobs', { state: s, per_page: 1 }, { signal: signal_ })));
      counts.value = Object.fromEntries(ATTENTION.map((s, i) => [s, Number(pages[i].total) || 0]));
    } catch (err) {
      if (!isAbort(err)) console.warn('job counts', err); // the table shows the error that matters
    }
  }

  const table = createTable({
    load: ({ page, perPage, signal: s }) => {
      refreshCounts(s);
      return api.get('/api/jobs', { state: state.value, kind: filters.kind, page, per_page: perPage }, { signal: s });
    },
    page: Number(ctx.query.page) || 1,
    perPage: Number(ctx.query.per_page) || 50,
    onPageChange: ({ page, perPage }) => ctx.setQuery({ page, per_page: perPage }),
    signal: ctx.signal,
  });

  function selectState(next) {
    if (next === state.value) return;
    state.value = next;
    ctx.setQuery({ state: next, page: null });
    table.reload({ page: 1 });
  }

  function selectKind(kind) {
    filters.kind = kind;
    ctx.setQuery({ kind, page: null });
    table.reload({ page: 1 });
  }

  function confirmOptions(job, action) {
    const kind = jobKindLabel(job.kind);
    if (action === 'retry') {
      const uncertain = job.state === 'uncertain';
      const split = (job.progress || {}).total > 0; // only units not done are tried again
      const warning = split
        ? t('jobs.retry_uncertain_units')
        : job.kind.startsWith('mail.') ? t('jobs.retry_uncertain_mail') : t('jobs.retry_uncertain');
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

  /** After a retry: watch the job and refresh the list when it has run. */
  function follow(job) {
    pollJob(job.id, { signal: ctx.signal, timeout: 120000 })
      .then((j) => {
        if (ctx.signal.aborted) return;
        table.reload();
        const kind = jobKindLabel(j.kind);
        if (j.state === 'done') toast(t('jobs.retry_done', { kind }), { type: 'success' });
        else if (j.state === 'failed' || j.state === 'uncertain') toast(t('jobs.retry_failed', { kind }), { type: 'error' });
      })
      .catch((err) => {
        if (!isAbort(err)) console.warn('following job', err);
      });
  }

  /** Retry / close / cancel after a confirmation. Resolves 'done', 'conflict' or null. */
  async function act(job, action) {
    if (!(await confirm(confirmOptions(job, action)))) return null;
    const path = `/api/jobs/${encodeURIComponent(job.id)}/${action === 'retry' ? 'retry' : 'cancel'}`;
    pending.value = `${job.id}:${action}`;
    try {
      const updated = await api.post(path);
      const kind = jobKindLabel(job.kind);
      const message = { retry: t('jobs.retried', { kind }), close: t('jobs.closed', { kind }), cancel: t('jobs.cancelled', { kind }) }[action];
      toast(message, { type: 'success' });
      table.reload();
      if (action === 'retry') follow(updated);
      return 'done';
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // Someone (or a worker) got there first: show the job as it is now, and say so plainly.
        table.reload();
        await alert({ title: t('jobs.conflict_title'), message: errorText(err) });
        return 'conflict';
      }
      toast(errorText(err), { type: 'error' });
      return null;
    } finally {
      pending.value = null;
    }
  }

  function rowActions(job) {
    const busy = (action) => pending.value === `${job.id}:${action}`;
    return html`<div class="row-actions">
      ${RETRYABLE.has(job.state) && html`<${Button} label=${t('jobs.retry')} icon="refresh" size="sm" busy=${busy('retry')} onClick=${() => act(job, 'retry')} />`}
      ${CLOSABLE.has(job.state) && html`<${Button} label=${t('jobs.close')} size="sm" variant="ghost" busy=${busy('close')} onClick=${() => act(job, 'close')} />`}
      ${CANCELLABLE.has(job.state) && html`<${Button} label=${t('jobs.cancel')} size="sm" variant="danger-ghost" busy=${busy('cancel')} onClick=${() => act(job, 'cancel')} />`}
    </div>`;
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
      body: html`<div class="stack">
        ${job.state === 'uncertain' &&
        html`<${Notice} tone="warning" title=${t('jobs.uncertain_reason')} message=${canWrite ? t('jobs.uncertain_notice') : t('jobs.uncertain_notice_readonly')} />`}
        ${detailList([
          [t('jobs.col.state'), stateBadge(job)],
          [t('jobs.col.kind'), kindCell(job)],
          job.summary && [t('jobs.col.summary'), html`<span class="job-summary-detail">${job.summary}</span>`],
          [t('jobs.col.id'), mono(job.id)],
          [t('jobs.col.created_by'), actorCell(job.created_by)],
          [t('common.created_at'), time(job.created_at)],
          [t('jobs.col.updated_at'), time(job.updated_at)],
          [t('jobs.col.finished_at'), time(job.finished_at)],
          [t('jobs.col.attempts'), fmt.number(job.attempts)],
          job.progress?.total > 0 && [t('jobs.col.progress'), progressCell(job)],
        ])}
        ${job.progress?.total > 0 && (job.state === 'uncertain' || job.state === 'failed' || job.state === 'done') &&
        html`<${UnitsToCheck} job=${job} signal=${ctx.signal} />`}
        ${job.error && [html`<h3 class="subheading">${t('jobs.col.error')}</h3>`, html`<pre class="code-block job-text">${job.error}</pre>`]}
        ${job.result && [html`<h3 class="subheading">${t('jobs.result')}</h3>`, html`<pre class="code-block job-text">${JSON.stringify(job.result, null, 2)}</pre>`]}
      </div>`,
      actions,
    });
    dlg.result.then(() => {
      if (!ctx.signal.aborted) ctx.setQuery({ job: null });
    });
  }

  /** Opened from a link to one job (#/jobs?job=<id>). */
  function openLinked() {
    if (!ctx.query.job) return;
    api
      .get(`/api/jobs/${encodeURIComponent(ctx.query.job)}`, null, { signal: ctx.signal })
      .then(openDetail)
      .catch((err) => {
        if (isAbort(err)) return;
        ctx.setQuery({ job: null });
        toast(errorText(err), { type: 'error' });
      });
  }

  return { canWrite, filters, state, counts, table, selectState, selectKind, rowActions, openDetail, openLinked };
}

/** The declared job kinds (their names in both languages) before the screen is drawn; without
 * them the screen still works and shows the kinds' codes. */
export async function load(ctx) {
  try {
    await loadJobKinds({ signal: ctx.signal });
  } catch (err) {
    if (isAbort(err)) throw err;
    console.warn('job kinds', err);
  }
}

export default function JobsView({ ctx }) {
  const jobs = useConst(() => createJobs(ctx));
  useEffect(jobs.openLinked, []);
  const { canWrite, filters, table } = jobs;

  const columns = [
    { key: 'state', label: t('jobs.col.state'), nowrap: true, render: stateBadge },
    { key: 'kind', label: t('jobs.col.kind_error'), className: 'cell--job-kind', render: kindAndErrorCell },
    { key: 'created', label: t('jobs.col.created'), nowrap: true, render: createdCell },
    { key: 'finished_at', label: t('jobs.col.finished_at'), nowrap: true, render: (j) => time(j.finished_at) },
    // A bar says something only for jobs of many units (a mailing), not for one test mail.
    { key: 'progress', label: t('jobs.col.progress'), nowrap: true, render: (j) => (j.progress?.total > 1 ? progressCell(j) : null) },
    { key: 'attempts', label: t('jobs.col.attempts'), align: 'end', nowrap: true, render: (j) => fmt.number(j.attempts) },
  ];
  if (canWrite) columns.push({ key: 'actions', label: t('common.actions'), hideLabel: true, align: 'end', nowrap: true, render: jobs.rowActions });

  const kindOptions = jobKindNames().map((k) => ({ value: k, label: jobKindLabel(k) }));
  if (filters.kind && !jobKindNames().includes(filters.kind)) kindOptions.push({ value: filters.kind, label: filters.kind });

  return html`<${Page}
    title=${t('nav.jobs')}
    subtitle=${t('jobs.subtitle')}
    fill
    actions=${[html`<${Button} label=${t('common.refresh')} icon="refresh" variant="ghost" onClick=${() => table.reload()} />`]}
    toolbar=${html`<${Toolbar}>
      <${StateFilter} value=${jobs.state} counts=${jobs.counts} onSelect=${jobs.selectState} />
      <${FilterSelect} label=${t('jobs.col.kind')} value=${filters.kind} allLabel=${t('common.all')} options=${kindOptions} onChange=${jobs.selectKind} />
    <//>`}
  >
    <${UncertainBanner} jobs=${jobs} />
    <${DataTable}
      table=${table}
      label=${t('nav.jobs')}
      columns=${columns}
      onRowClick=${jobs.openDetail}
      rowClass=${(j) => (ATTENTION.includes(j.state) ? `row--${j.state}` : null)}
      empty=${() => (jobs.state.value || filters.kind ? t('jobs.empty_filtered') : t('jobs.empty'))}
    />
  <//>`;
}

function UncertainBanner({ jobs }) {
  const uncertain = jobs.counts.value.uncertain || 0;
  if (uncertain === 0) return null;
  return html`<div class="page__banner">
    <${Notice}
      tone="warning"
      testId="jobs-uncertain-notice"
      title=${t('jobs.uncertain_title', { count: fmt.number(uncertain) })}
      message=${jobs.canWrite ? t('jobs.uncertain_notice') : t('jobs.uncertain_notice_readonly')}
    >
      ${jobs.state.value !== 'uncertain' &&
      html`<div class="notice__actions"><${Button} label=${t('jobs.show_uncertain')} size="sm" onClick=${() => jobs.selectState('uncertain')} /></div>`}
    <//>
  </div>`;
}
