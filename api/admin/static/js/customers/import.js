// The import wizard's model (views/customer-import.js): one import batch of a table, step by
// step, over the imports API (/api/customers/tables/<table>/imports, api/imports).
//
//   const wizard = createImportWizard(ctx, { design, batch });
//   wizard.step.value        'upload' | 'mapping' | 'check' | 'run' | 'result'
//   wizard.upload(file, encoding)   POST /?keep_refused=true (multipart) → the batch, its header,
//                            sample, mapping; a file over the limit (GET /settings) is refused
//                            before a byte is sent; one refused for its encoding is kept
//   wizard.reread(encoding)  PATCH /{id} {encoding}: the same file read again in another
//                            encoding (a refused one, or one read wrongly), mapped afresh
//   wizard.setField(col, key) · setMode(mode) · toggleKey(key)   the mapping, kept in the browser
//   wizard.check()           PATCH the mapping, POST /{id}/check, follow the job → batch.check
//   wizard.run()             POST /{id}/run, follow the job (rows/s, ETA) → batch.result
//   wizard.resume()          POST /{id}/resume: a stopped run (or undo) goes on where it stopped
//   undoBatch(base, batch, { signal, onUpdate })   POST /{id}/undo, follow the job → the batch
//
// Errors of the API's PATCH (`mapping.<col>`, `key`) and the mapping's own checks (a field
// mapped twice, a key field not mapped) are kept by place in `errors` ({'mapping.3': text}).

import { batch as batchSignals, computed, signal } from '../lib.js';
import { api, ApiError, isAbort, upload as uploadFile } from '../api.js';
import { getLanguage, t, tComplete, tOr } from '../i18n.js';
import { errorText, fieldErrorText } from '../errors.js';
import { bytes, number } from '../format.js';
import { pollJob } from '../jobs.js';
import { activeFields, fieldLabel } from './design.js';

export const MODES = ['insert', 'update', 'upsert'];
export const ENCODINGS = ['auto', 'utf-8', 'cp932'];
export const STEPS = ['upload', 'mapping', 'check', 'run'];
// Fields whose values a file cannot hold (a file field is uploaded on the record).
const NOT_IMPORTABLE = new Set(['file']);
// The job of a big import can run for a long time: follow it for up to a day.
const LONG = 24 * 3600 * 1000;

export const importBase = (table) => `/api/customers/tables/${encodeURIComponent(table)}/imports`;
export const errorsUrl = (table, id) => `${importBase(table)}/${encodeURIComponent(id)}/errors.csv`;

/** The fields a column can be mapped to. */
export const importableFields = (design) => activeFields(design).filter((f) => !NOT_IMPORTABLE.has(f.type));

/** The mode's name ("Insert only"…). */
export const modeLabel = (mode) => tOr(`customers.import.mode.${mode}`, mode);
/** Why the undo left a record alone (changed_since, deleted_since, cannot_restore, in_use). */
export const undoReason = (reason) => tOr(`customers.import.undo.reason.${reason}`, reason || '');
export const stateLabel = (state) => tOr(`customers.import.state.${state}`, state || '');
const STATE_TONES = { uploaded: 'neutral', checking: 'info', checked: 'info', running: 'info', done: 'success', failed: 'danger', undoing: 'info', undone: 'neutral', interrupted: 'warning', undo_interrupted: 'warning', expired: 'neutral' };
export const stateTone = (state) => STATE_TONES[state] || 'neutral';
/** What the server says happened to a batch (a stopped run: how far it got, resume or undo),
 * in the staff's language; else the catalog's sentence for its state. */
export function batchMessage(b) {
  const own = getLanguage() === 'ja' ? b?.message_ja || b?.message : b?.message;
  if (own) return own;
  const code = { interrupted: 'import_interrupted', undo_interrupted: 'import_undo_interrupted', expired: 'import_abandoned' }[b?.state];
  return code ? tOr(`error.${code}`, '') : '';
}
/** A stopped run or undo goes on where it stopped (POST /{id}/resume). */
export const canResume = (b) => b?.state === 'interrupted' || b?.state === 'undo_interrupted';
/** What went in can be taken out: a finished run, or one that stopped part-way. */
export const canUndo = (b) => ['done', 'interrupted'].includes(b?.state);

/** One refused file's message, with the server's suggestion (choose CP932…) after it. */
export function refusedText(err) {
  if (!(err instanceof ApiError)) return errorText(err);
  const e = err.errors.find((x) => x.field === 'file') || err.errors[0];
  if (!e) return errorText(err);
  return refusalText(e);
}

/** The kept batch a refusal names (a file refused for its encoding, to be read again). */
export function refusedBatchId(err) {
  if (!(err instanceof ApiError)) return null;
  const id = err.errors.find((x) => x.params?.batch_id != null)?.params.batch_id;
  return id ?? null;
}

/** "The file (1.2 GB) is larger than the limit of 1 GB…": checked before a byte is sent. */
export function tooLargeText(size, limit) {
  return t('customers.import.upload.too_large', { size: bytes(size), limit: bytes(limit) });
}

/** A refusal as the API words it ({field, code, message, params}): the message by code,
 * then the suggestion (choose CP932…). */
export function refusalText(e) {
  const main = fieldErrorText(e);
  const suggest = e.params?.suggest;
  const hint = suggest ? tOr(`customers.import.suggest.${suggest}`, '') : '';
  return hint ? t('common.sentences', { first: main, second: hint }) : main;
}

/** A row error of a dry run or a run ({row, column, field, code, params, message, message_ja}):
 * the server's sentence in the staff's language, else the catalog's by code. */
export function rowErrorText(e) {
  const params = e.params && typeof e.params === 'object' ? e.params : null;
  const ja = getLanguage() === 'ja';
  let own = ja ? e.message_ja || e.message : e.message;
  if (own && !ja) own = own[0].toUpperCase() + own.slice(1); // a reason, shown as a sentence
  // The server words each reason in both languages with its values (the row of the first
  // occurrence, the record's id…); the catalog's sentence is for reasons sent without them.
  return own || (params && tComplete(`error.${e.code}`, params)) || tOr(`error.${e.code}.plain`, '') || tOr(`error.${e.code}`, e.code);
}

/** "メールアドレス（2 列目）": a 1-based column of the file by its header's name. */
export function columnText(header, column) {
  if (column == null) return '';
  const name = header?.[column - 1];
  return name ? t('customers.import.column_named', { name, n: number(column) }) : t('customers.import.column_n', { n: number(column) });
}

/** Rows done, rows per second and seconds left from successive samples of a job's progress. */
export function createRate() {
  let first = null;
  return {
    sample(done, total, now = Date.now()) {
      if (first == null || done < first.done) first = { done, now };
      const seconds = (now - first.now) / 1000;
      const perSecond = seconds >= 0.5 && done > first.done ? (done - first.done) / seconds : null;
      const left = perSecond && total > done ? Math.ceil((total - done) / perSecond) : null;
      return { done, total, perSecond, left };
    },
  };
}

/** Rows of a job's progress: the job counts its units (chunks of rows or rows), the batch the rows. */
export function progressRows(job, batch) {
  const p = job?.progress || {};
  const rows = batch?.rows_total || batch?.rows_estimate || null;
  if (!p.total) return { done: 0, total: rows || 0 };
  const total = rows || p.total;
  return { done: Math.min(total, Math.round((p.finished / p.total) * total)), total };
}

/** "3 min 20 s", "45 s". */
export function durationText(seconds) {
  if (seconds == null) return '';
  if (seconds < 60) return t('customers.import.seconds', { s: number(seconds) });
  const m = Math.floor(seconds / 60);
  if (m < 60) return t('customers.import.minutes', { m: number(m), s: number(seconds % 60) });
  return t('customers.import.hours', { h: number(Math.floor(m / 60)), m: number(m % 60) });
}

function stepOf(b) {
  if (!b || b.state === 'refused') return 'upload';
  if (['running', 'done', 'failed', 'undoing', 'undone', 'interrupted', 'undo_interrupted', 'expired'].includes(b.state) || b.result) return 'run';
  if (b.check && b.state !== 'uploaded') return 'check';
  return 'mapping';
}

/** Starts a job (the POST answers {job_id}), follows it and loads the batch again. */
async function follow(base, id, start, { signal, onUpdate }) {
  const started = await start();
  const jobId = started.job_id ?? started.job?.id;
  let job = null;
  if (jobId != null) {
    job = await pollJob(jobId, { signal, onUpdate, timeout: LONG });
  }
  const fresh = await api.get(`${base}/${encodeURIComponent(id)}`, null, { signal });
  return { batch: fresh, job };
}

/** Undoes a batch: resolves with the batch after the undo job (its `undo` has the outcome). */
export function undoBatch(base, b, { signal, onUpdate } = {}) {
  return follow(base, b.id, () => api.post(`${base}/${encodeURIComponent(b.id)}/undo`, {}, { signal }), { signal, onUpdate });
}

export function createImportWizard(ctx, { design, batch: initial = null, settings = null }) {
  const table = design.key;
  const base = importBase(table);
  const fields = importableFields(design);
  const byKey = new Map(fields.map((f) => [f.key, f]));
  // The member table's `groups` column (api/groups/imports.py): not a field, the members' groups.
  const groupsColumn = !!design.is_member_table && !byKey.has('groups');
  const mappable = (v) => byKey.has(v) || (groupsColumn && v === 'groups');

  const batch = signal(initial);
  const step = signal(stepOf(initial));
  const busy = signal(false);
  const uploadError = signal(null); // a refused file: text
  const error = signal(null); // any other failure of the current step: text
  const errors = signal({}); // 'mapping.<col>' | 'key' | 'mode' → text
  const mapping = signal({}); // col (string) → field key | null
  const auto = signal(new Set()); // the columns the server mapped by itself
  const mode = signal('upsert');
  const key = signal([]);
  const job = signal(null);
  const progress = signal(null); // { done, total, perSecond, left }
  const undone = signal(null); // the batch's undo outcome, after an undo made here
  const sent = signal(null); // the upload under way: { loaded, total } bytes
  const maxBytes = settings?.max_bytes ?? null; // the server's upload limit
  // A file refused for its encoding, kept by the server to be read again: { id, filename, suggest }
  const refused = signal(initial?.state === 'refused' ? { id: initial.id, filename: initial.filename, suggest: initial.refusal?.params?.suggest || null } : null);
  const rereadError = signal(null); // the mapping step's re-read that failed: text

  function take(b) {
    batchSignals(() => {
      batch.value = b;
      const m = {};
      (b.header || []).forEach((_, i) => {
        const v = b.mapping?.[String(i)] ?? b.mapping?.[i] ?? null;
        m[String(i)] = v && mappable(v) ? v : null;
      });
      mapping.value = m;
      auto.value = new Set(Object.keys(m).filter((c) => m[c]));
      mode.value = MODES.includes(b.mode) ? b.mode : 'upsert';
      key.value = Array.isArray(b.key) ? b.key.filter((k) => byKey.has(k)) : [];
      errors.value = {};
    });
  }
  if (initial && initial.state !== 'refused') take(initial);
  if (initial?.state === 'refused' && initial.refusal) uploadError.value = refusalText(initial.refusal);

  function go(next, b) {
    batchSignals(() => {
      if (b) batch.value = b;
      step.value = next;
      error.value = null;
    });
    if (batch.value) ctx.setQuery({ batch: batch.value.id });
  }

  /** The fields mapped, with the columns mapping each (to find a field mapped twice). */
  const mappedFields = computed(() => {
    const out = new Map();
    for (const [col, f] of Object.entries(mapping.value)) if (f) out.set(f, [...(out.get(f) || []), col]);
    return out;
  });
  const keyFields = computed(() => fields.filter((f) => mappedFields.value.has(f.key)));

  function localErrors() {
    const out = {};
    for (const [f, cols] of mappedFields.value) {
      if (cols.length > 1) for (const c of cols.slice(1)) out[`mapping.${c}`] = t('customers.import.mapping.twice', { field: byKey.has(f) ? fieldLabel(byKey.get(f)) : t('customers.import.mapping.groups') });
    }
    if (!mappedFields.value.size) out.mapping = t('customers.import.mapping.none');
    if (mode.value !== 'insert') {
      if (!key.value.length) out.key = t('customers.import.key.required');
      else {
        const missing = key.value.filter((k) => !mappedFields.value.has(k));
        if (missing.length) out.key = t('customers.import.key.not_mapped', { fields: missing.map((k) => fieldLabel(byKey.get(k))).join(t('customers.import.list_separator')) });
      }
    }
    return out;
  }

  function serverErrors(err) {
    const out = {};
    for (const e of err.errors || []) {
      const place = String(e.field || '');
      const at = place.startsWith('mapping.') || place === 'key' || place === 'mode' || place === 'mapping' ? place : place.startsWith('key') ? 'key' : '';
      // The server names fields by key: the staff know them by label.
      const f = e.params?.field && byKey.get(e.params.field);
      out[at || 'general'] = fieldErrorText(f ? { ...e, params: { ...e.params, field: fieldLabel(f) } } : e);
    }
    if (!Object.keys(out).length) out.general = errorText(err);
    return out;
  }

  /** The refusal of a file over the limit (null when it fits, or the limit is unknown). */
  function tooLarge(file) {
    return file && maxBytes != null && file.size > maxBytes ? tooLargeText(file.size, maxBytes) : null;
  }

  async function upload(file, encoding) {
    if (!file) return;
    refused.value = null;
    uploadError.value = tooLarge(file);
    if (uploadError.value) return; // not a byte sent: the server would refuse it (413) anyway
    busy.value = true;
    sent.value = { loaded: 0, total: file.size };
    const form = new FormData();
    form.append('file', file, file.name);
    form.append('encoding', encoding || 'auto');
    try {
      const b = await uploadFile(`${base}?keep_refused=true`, form, { signal: ctx.signal, onProgress: (p) => (sent.value = p) });
      take(b);
      go('mapping', b);
    } catch (err) {
      if (isAbort(err)) return;
      uploadError.value = refusedText(err);
      const id = refusedBatchId(err);
      if (id != null) {
        const e = err.errors.find((x) => x.params?.batch_id != null);
        refused.value = { id, filename: file.name, suggest: e?.params?.suggest || null };
        ctx.setQuery({ batch: id });
      }
    } finally {
      busy.value = false;
      sent.value = null;
    }
  }

  /** Reads the batch's file again in another encoding (PATCH, the whole file checked): a
   * refused file from the upload step, or one read wrongly from the mapping step. */
  async function reread(encoding) {
    const id = refused.value?.id ?? batch.value?.id;
    if (id == null) return;
    const wasRefused = refused.value != null;
    busy.value = true;
    rereadError.value = null;
    try {
      const b = await api.patch(`${base}/${encodeURIComponent(id)}`, { encoding }, { signal: ctx.signal });
      const sameHeader = !wasRefused && JSON.stringify(b.header) === JSON.stringify(batch.value?.header);
      batchSignals(() => {
        refused.value = null;
        uploadError.value = null;
        if (sameHeader) batch.value = b; // the mapping being made stays
        else take(b);
      });
      go('mapping', b);
    } catch (err) {
      if (isAbort(err)) return;
      const text = err instanceof ApiError && err.status === 422 ? refusedText(err) : errorText(err);
      if (wasRefused) uploadError.value = text;
      else rereadError.value = text;
    } finally {
      busy.value = false;
    }
  }

  function setField(col, fieldKey) {
    const next = { ...mapping.value, [String(col)]: fieldKey || null };
    const a = new Set(auto.value);
    a.delete(String(col));
    batchSignals(() => {
      mapping.value = next;
      auto.value = a;
      const e = { ...errors.value };
      delete e[`mapping.${col}`];
      delete e.mapping;
      errors.value = e;
    });
  }

  function setMode(m) {
    mode.value = m;
    const e = { ...errors.value };
    delete e.key;
    errors.value = e;
  }

  function toggleKey(k, on) {
    key.value = on ? [...new Set([...key.value, k])] : key.value.filter((x) => x !== k);
    const e = { ...errors.value };
    delete e.key;
    errors.value = e;
  }

  /** Saves the mapping (PATCH); false when it has errors (shown at their place). */
  async function saveMapping() {
    const local = localErrors();
    if (Object.keys(local).length) {
      errors.value = local;
      return false;
    }
    const b = batch.value;
    try {
      const saved = await api.patch(`${base}/${encodeURIComponent(b.id)}`, { mapping: mapping.value, mode: mode.value, key: mode.value === 'insert' ? [] : key.value }, { signal: ctx.signal });
      batch.value = saved;
      errors.value = {};
      return true;
    } catch (err) {
      if (isAbort(err)) return false;
      if (err.status === 422) errors.value = serverErrors(err);
      else error.value = errorText(err);
      return false;
    }
  }

  async function runJob(start, onJob) {
    const b = batch.value;
    const { batch: fresh, job: j } = await follow(base, b.id, start, {
      signal: ctx.signal,
      onUpdate: (x) => {
        job.value = x;
        onJob?.(x);
      },
    });
    batch.value = fresh;
    // A step that stopped says what happened on the batch (the run screen shows it, with Resume).
    if (j && j.state !== 'done' && !canResume(fresh)) {
      error.value = batchMessage(fresh) || (j.state === 'failed' ? t('customers.import.job_failed', { error: j.error || '' }) : t('customers.import.job_unfinished', { state: tOr(`job.state.${j.state}`, j.state) }));
    }
    return fresh;
  }

  async function check() {
    busy.value = true;
    error.value = null;
    try {
      if (!(await saveMapping())) return;
      job.value = null;
      const b = batch.value;
      // The dry run goes through the file in chunks, like the run: rows/s and ETA as it goes.
      const rate = createRate();
      progress.value = { done: 0, total: b.rows_total || b.rows_estimate || 0, perSecond: null, left: null };
      await runJob(
        () => api.post(`${base}/${encodeURIComponent(b.id)}/check`, {}, { signal: ctx.signal }),
        (j) => {
          const rows = progressRows(j, batch.value);
          progress.value = rate.sample(rows.done, rows.total);
        },
      );
      progress.value = null;
      if (batch.value.check) go('check');
    } catch (err) {
      if (!isAbort(err)) error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  }

  async function run({ allOrNothing = false } = {}) {
    busy.value = true;
    error.value = null;
    const b = batch.value;
    const rate = createRate();
    progress.value = { done: 0, total: b.rows_total || b.rows_estimate || 0, perSecond: null, left: null };
    go('run');
    try {
      await runJob(
        () => api.post(`${base}/${encodeURIComponent(b.id)}/run`, { all_or_nothing: allOrNothing }, { signal: ctx.signal }),
        (j) => {
          // The batch is running on the server now (its history row says so too).
          if (batch.value.state !== 'running' && !['done', 'failed'].includes(j.state)) batch.value = { ...batch.value, state: 'running' };
          const rows = progressRows(j, batch.value);
          progress.value = rate.sample(rows.done, rows.total);
        },
      );
    } catch (err) {
      if (!isAbort(err)) error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  }

  /** Resumes a stopped run from its first unfinished chunk, or a stopped undo where it stopped. */
  async function resume() {
    busy.value = true;
    error.value = null;
    const b = batch.value;
    const undoing = b.state === 'undo_interrupted';
    const rate = createRate();
    progress.value = { done: b.progress?.done || 0, total: b.rows_total || b.rows_estimate || 0, perSecond: null, left: null };
    try {
      await runJob(
        () => api.post(`${base}/${encodeURIComponent(b.id)}/resume`, {}, { signal: ctx.signal }),
        (j) => {
          if (!['done', 'failed'].includes(j.state)) batch.value = { ...batch.value, state: undoing ? 'undoing' : 'running' };
          const rows = progressRows(j, batch.value);
          progress.value = rate.sample(rows.done, rows.total);
        },
      );
      if (undoing) undone.value = batch.value.undo || null;
    } catch (err) {
      if (!isAbort(err)) error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  }

  /** Follows a batch whose job is under way (opened from the history or after a reload). */
  async function watch() {
    const b = batch.value;
    if (!b || b.job_id == null || !['running', 'checking', 'undoing'].includes(b.state)) return;
    const rate = createRate();
    busy.value = true;
    try {
      await pollJob(b.job_id, {
        signal: ctx.signal,
        timeout: LONG,
        onUpdate: (j) => {
          job.value = j;
          const rows = progressRows(j, batch.value);
          progress.value = rate.sample(rows.done, rows.total);
        },
      });
      const fresh = await api.get(`${base}/${encodeURIComponent(b.id)}`, null, { signal: ctx.signal });
      batchSignals(() => {
        batch.value = fresh;
        step.value = stepOf(fresh);
      });
    } catch (err) {
      if (!isAbort(err)) error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  }

  async function undo() {
    busy.value = true;
    error.value = null;
    try {
      const b = batch.value;
      await runJob(() => api.post(`${base}/${encodeURIComponent(b.id)}/undo`, {}, { signal: ctx.signal }));
      undone.value = batch.value.undo || null;
    } catch (err) {
      if (!isAbort(err)) error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  }

  function restart() {
    batchSignals(() => {
      batch.value = null;
      job.value = null;
      progress.value = null;
      undone.value = null;
      uploadError.value = null;
      refused.value = null;
      rereadError.value = null;
      errors.value = {};
      step.value = 'upload';
      error.value = null;
    });
    ctx.setQuery({ batch: null });
  }

  return {
    table, base, fields, byKey, groupsColumn, batch, step, busy, sent, uploadError, error, errors, mapping, auto, mode, key, job, progress, undone,
    maxBytes, refused, rereadError, tooLarge,
    mappedFields, keyFields, upload, reread, setField, setMode, toggleKey, saveMapping, check, run, resume, watch, undo, restart,
    back: () => go('mapping'),
  };
}
