// Importing a CSV or Excel file into a table (#/customers/<table>/import?batch=<id>), step by
// step: 1 the file (picker or drop, encoding auto/UTF-8/CP932, the size limit the API tells: a
// larger file is refused before it is sent; a refused file says why and what to do, and one
// refused for its encoding is read again in another without sending it again), 2 the mapping
// (the file can be read again in another encoding there too, when its samples are garbled) (each column with its sample values → a field or "do not import", the
// mode and its key), 3 the dry run (counts, the first errors by row and column, the error
// report), 4 the run (progress with rows/s and ETA, the result, the error report, undo). Under
// it, the table's import history (each batch with its state, counts, who and when; undo).
// The model is customers/import.js; the API is api/imports.

import { html, cx, useConst, useEffect, useRef, useSignal } from '../lib.js';
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { errorText } from '../errors.js';
import { Notice, Page } from '../ui/page.js';
import { Button, LinkButton } from '../ui/button.js';
import { createTable, DataTable } from '../ui/table.js';
import { badge, twoLines } from '../ui/cells.js';
import { confirm, openDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { Icon } from '../ui/icons.js';
import { fieldLabel, loadDesigns, tableLabel } from '../customers/design.js';
import {
  batchMessage, canResume, canUndo, columnText, createImportWizard, durationText, ENCODINGS, errorsUrl, importBase, MODES, modeLabel, rowErrorText, stateLabel, stateTone, STEPS, undoBatch, undoReason,
} from '../customers/import.js';

export async function load(ctx) {
  const key = ctx.params.table;
  const designs = await loadDesigns({ signal: ctx.signal });
  const design = designs.get(key);
  if (!design) throw new ApiError(404, { code: 'table_not_found' });
  // The upload limit, the encodings and formats (GET …/imports/settings).
  const settings = await api.get(`${importBase(key)}/settings`, null, { signal: ctx.signal });
  let batch = null;
  if (ctx.query.batch) {
    try {
      batch = await api.get(`${importBase(key)}/${encodeURIComponent(ctx.query.batch)}`, null, { signal: ctx.signal });
    } catch (err) {
      if (err.status !== 404) throw err;
    }
  }
  return { design, batch, settings };
}

const STEP_LABELS = {
  upload: () => t('customers.import.step.upload'),
  mapping: () => t('customers.import.step.mapping'),
  check: () => t('customers.import.step.check'),
  run: () => t('customers.import.step.run'),
};

function Stepper({ current }) {
  const at = STEPS.indexOf(current);
  return html`<ol class="wizard-steps" aria-label=${t('customers.import.steps')}>
    ${STEPS.map((s, i) => html`<li key=${s} class=${cx('wizard-steps__step', i < at && 'is-done', i === at && 'is-current')} aria-current=${i === at ? 'step' : undefined}>
      <span class="wizard-steps__num">${i < at ? html`<${Icon} name="check" size=${14} />` : i + 1}</span>
      <span class="wizard-steps__label">${STEP_LABELS[s]()}</span>
    </li>`)}
  </ol>`;
}

// ------------------------------------------------------------------------------------ 1 upload

function UploadStep({ wizard }) {
  const file = useSignal(null);
  const encoding = useSignal('auto');
  const over = useSignal(false);
  const input = useRef(null);

  // A file dropped beside the zone would make the browser open it in place of the panel.
  useEffect(() => {
    const stop = (e) => {
      if (e.dataTransfer?.types?.includes('Files')) e.preventDefault();
    };
    window.addEventListener('dragover', stop);
    window.addEventListener('drop', stop);
    return () => {
      window.removeEventListener('dragover', stop);
      window.removeEventListener('drop', stop);
    };
  }, []);

  function pick(f) {
    if (!f) return;
    file.value = f;
    wizard.refused.value = null;
    wizard.uploadError.value = wizard.tooLarge(f); // refused here, before a byte is sent
  }
  function onDrop(e) {
    e.preventDefault();
    over.value = false;
    pick(e.dataTransfer?.files?.[0]);
  }
  const f = file.value;
  return html`<section class="card wizard__card" aria-labelledby="import-upload-title" data-testid="import-upload">
    <h2 class="subheading" id="import-upload-title">${t('customers.import.upload.title')}</h2>
    <p class="muted">${t('customers.import.upload.help')}</p>
    <label class=${cx('dropzone', over.value && 'is-over', f && 'has-file')}
      onDragOver=${(e) => { e.preventDefault(); over.value = true; }}
      onDragLeave=${() => (over.value = false)}
      onDrop=${onDrop}>
      <input type="file" class="visually-hidden" ref=${input} name="file" accept=".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        data-testid="import-file" onChange=${(e) => pick(e.currentTarget.files?.[0])} />
      <${Icon} name="upload" size=${28} className="dropzone__icon" />
      ${f
        ? html`<span class="dropzone__name">${f.name}</span><span class="muted">${fmt.bytes(f.size)} · ${t('customers.import.upload.change')}</span>`
        : html`<span class="dropzone__title">${t('customers.import.upload.drop')}</span><span class="muted">${t('customers.import.upload.or_choose')}</span>`}
    </label>
    ${wizard.maxBytes != null && html`<p class="muted wizard__limit" data-testid="import-limit">${t('customers.import.upload.limit', { limit: fmt.bytes(wizard.maxBytes) })}</p>`}
    <div class="field field--md">
      <label class="field__label" for="import-encoding">${t('customers.import.encoding.label')}</label>
      <select id="import-encoding" class="input" name="encoding" value=${encoding.value} onChange=${(e) => (encoding.value = e.currentTarget.value)}>
        ${ENCODINGS.map((enc) => html`<option value=${enc} key=${enc}>${encodingLabel(enc)}</option>`)}
      </select>
      <p class="field__help">${t('customers.import.encoding.help')}</p>
    </div>
    ${wizard.sent.value && html`<div class="import-progress" data-testid="import-sending">
      <progress max=${wizard.sent.value.total || 1} value=${wizard.sent.value.loaded} aria-label=${t('customers.import.upload.sending_label')}></progress>
      <p class="import-progress__text"><span>${wizard.sent.value.loaded >= (wizard.sent.value.total || 0)
        ? t('customers.import.upload.reading')
        : t('customers.import.upload.sending', { sent: fmt.bytes(wizard.sent.value.loaded), total: fmt.bytes(wizard.sent.value.total) })}</span></p>
    </div>`}
    ${wizard.uploadError.value && html`<${Notice} tone="danger" title=${t('customers.import.upload.refused')} message=${wizard.uploadError.value} testId="import-refused">
      ${wizard.refused.value && html`<div class="notice__actions">
        <p>${t('customers.import.reread.kept', { file: wizard.refused.value.filename })}</p>
        <${Reread} wizard=${wizard} initial=${wizard.refused.value.suggest || 'auto'} testId="import-reread" />
      </div>`}
    <//>`}
    <div class="wizard__actions">
      <span class="pager__spacer"></span>
      <${Button} label=${t('customers.import.upload.submit')} variant="primary" icon="right" disabled=${!f || !!wizard.tooLarge(f)} busy=${wizard.busy.value}
        testId="import-upload-submit" onClick=${() => wizard.upload(file.value, encoding.value)} />
    </div>
  </section>`;
}

/** "Read it again as [encoding] [Read again]": the same uploaded file, another encoding. */
function Reread({ wizard, initial, testId }) {
  const encoding = useSignal(initial);
  const id = `${testId}-encoding`;
  return html`<div class="reread" data-testid=${testId}>
    <label class="reread__label" for=${id}>${t('customers.import.reread.label')}</label>
    <select id=${id} class="input input--sm" name="reread-encoding" value=${encoding.value} onChange=${(e) => (encoding.value = e.currentTarget.value)}>
      ${ENCODINGS.map((enc) => html`<option value=${enc} key=${enc}>${encodingLabel(enc)}</option>`)}
    </select>
    <${Button} size="sm" label=${t('customers.import.reread.submit')} icon="refresh" busy=${wizard.busy.value} testId=${`${testId}-submit`}
      onClick=${() => wizard.reread(encoding.value)} />
  </div>`;
}

function encodingLabel(enc) {
  if (enc === 'auto') return t('customers.import.encoding.auto');
  if (enc === 'cp932') return t('customers.import.encoding.cp932');
  return t('customers.import.encoding.utf8');
}

// ----------------------------------------------------------------------------------- 2 mapping

/** The encoding the file was read in (utf-8, utf-8-sig, cp932). */
function detectedLabel(enc) {
  if (enc === 'cp932') return t('customers.import.encoding.cp932');
  if (enc === 'utf-8-sig') return t('customers.import.encoding.utf8_bom');
  return t('customers.import.encoding.utf8_plain');
}

function BatchFacts({ batch }) {
  return html`<p class="wizard__facts muted">
    <span class="mono">${batch.filename}</span>
    <span>${fmt.bytes(batch.size)}</span>
    <span>${String(batch.format || '').toUpperCase()}${batch.encoding && batch.format !== 'xlsx' ? ` · ${detectedLabel(batch.encoding)}` : ''}</span>
    ${batch.rows_estimate > 0 && html`<span>${t('customers.import.rows', { count: fmt.number(batch.rows_estimate) })}</span>`}
  </p>`;
}

function MappingRow({ wizard, col, name, samples }) {
  const value = wizard.mapping.value[col] || '';
  const err = wizard.errors.value[`mapping.${col}`];
  const auto = wizard.auto.value.has(col);
  const id = `map-${col}`;
  return html`<tr class=${cx('mapping__row', err && 'is-invalid', !value && 'is-skipped')} data-column=${col}>
    <th scope="row" class="mapping__column">
      <span class="mapping__name">${name}</span>
      <span class="mapping__samples muted">${samples.filter((s) => s !== '' && s != null).slice(0, 3).map((s, i) => html`<span class="mapping__sample" key=${i}>${s}</span>`)}</span>
    </th>
    <td class="mapping__arrow" aria-hidden="true"><${Icon} name="right" size=${16} /></td>
    <td class="mapping__target">
      <label class="visually-hidden" for=${id}>${t('customers.import.mapping.field_for', { column: name })}</label>
      <div class="mapping__select">
        <select id=${id} class="input" value=${value} aria-invalid=${err ? 'true' : undefined} aria-describedby=${err ? `${id}-error` : undefined}
          onChange=${(e) => wizard.setField(col, e.currentTarget.value)}>
          <option value="">${t('customers.import.mapping.skip')}</option>
          ${wizard.fields.map((f) => html`<option value=${f.key} key=${f.key}>${fieldLabel(f)}</option>`)}
          ${wizard.groupsColumn && html`<option value="groups" key="groups">${t('customers.import.mapping.groups')}</option>`}
        </select>
        ${auto && value && badge(t('customers.import.mapping.auto'), 'info')}
      </div>
      ${err && html`<p class="field__error" id=${`${id}-error`}>${err}</p>`}
    </td>
  </tr>`;
}

function MappingStep({ wizard }) {
  const b = wizard.batch.value;
  const header = b.header || [];
  const samples = (i) => (b.sample || []).map((row) => row[i] ?? '');
  const errs = wizard.errors.value;
  const mode = wizard.mode.value;
  const remembered = b.mapping_source === 'remembered';
  return html`<section class="card wizard__card" aria-labelledby="import-mapping-title" data-testid="import-mapping">
    <h2 class="subheading" id="import-mapping-title">${t('customers.import.mapping.title')}</h2>
    <${BatchFacts} batch=${b} />
    ${b.format === 'csv' && html`<div class="reread-box">
      <p class="muted">${t('customers.import.reread.garbled')}</p>
      <${Reread} key=${b.encoding} wizard=${wizard} initial=${b.encoding === 'cp932' ? 'utf-8' : 'cp932'} testId="import-reread-mapping" />
      ${wizard.rereadError.value && html`<${Notice} tone="danger" title=${t('customers.import.upload.refused')} message=${wizard.rereadError.value} testId="import-reread-refused" />`}
    </div>`}
    <p class="muted">${remembered ? t('customers.import.mapping.remembered') : t('customers.import.mapping.help')}</p>
    ${errs.general && html`<${Notice} tone="danger" message=${errs.general} />`}
    ${errs.mapping && html`<${Notice} tone="danger" message=${errs.mapping} />`}
    <div class="table-scroll table-scroll--plain">
      <table class="table mapping">
        <thead><tr>
          <th scope="col">${t('customers.import.mapping.column')}</th>
          <th aria-hidden="true"></th>
          <th scope="col">${t('customers.import.mapping.field')}</th>
        </tr></thead>
        <tbody>${header.map((name, i) => html`<${MappingRow} key=${i} wizard=${wizard} col=${String(i)} name=${name} samples=${samples(i)} />`)}</tbody>
      </table>
    </div>
    <fieldset class="wizard__fieldset">
      <legend class="field__label">${t('customers.import.mode.label')}</legend>
      <div class="segmented" role="group" aria-label=${t('customers.import.mode.label')}>
        ${MODES.map((m) => html`<button type="button" key=${m} class="segmented__option" aria-pressed=${String(mode === m)} data-mode=${m} onClick=${() => wizard.setMode(m)}>${modeLabel(m)}</button>`)}
      </div>
      <p class="field__help">${modeHelp(mode)}</p>
    </fieldset>
    ${mode !== 'insert' && html`<fieldset class=${cx('wizard__fieldset', errs.key && 'field--invalid')} data-testid="import-key">
      <legend class="field__label">${t('customers.import.key.label')}</legend>
      <div class="cf-multi">
        ${wizard.keyFields.value.map((f) => html`<label class="cf-multi__option" key=${f.key}>
          <input type="checkbox" class="checkbox" name="key" value=${f.key} checked=${wizard.key.value.includes(f.key)} onChange=${(e) => wizard.toggleKey(f.key, e.currentTarget.checked)} />
          <span>${fieldLabel(f)}</span></label>`)}
        ${!wizard.keyFields.value.length && html`<span class="muted">${t('customers.import.key.map_first')}</span>`}
      </div>
      <p class="field__help">${t('customers.import.key.help')}</p>
      ${errs.key && html`<p class="field__error">${errs.key}</p>`}
    </fieldset>`}
    ${wizard.busy.value && wizard.progress.value && html`<${Progress} p=${wizard.progress.value} />`}
    ${wizard.error.value && html`<${Notice} tone="danger" message=${wizard.error.value} />`}
    <div class="wizard__actions">
      <${Button} label=${t('customers.import.another_file')} variant="ghost" onClick=${wizard.restart} />
      <span class="pager__spacer"></span>
      ${wizard.busy.value && html`<span class="job__running"><span class="spinner"></span>${t('customers.import.checking')}</span>`}
      <${Button} label=${t('customers.import.check.submit')} variant="primary" icon="right" busy=${wizard.busy.value} testId="import-check" onClick=${wizard.check} />
    </div>
  </section>`;
}

function modeHelp(mode) {
  if (mode === 'insert') return t('customers.import.mode.insert_help');
  if (mode === 'update') return t('customers.import.mode.update_help');
  return t('customers.import.mode.upsert_help');
}

// ----------------------------------------------------------------------------------- 3 dry run

function Counts({ items, testId }) {
  return html`<dl class="counts" data-testid=${testId}>
    ${items.filter(Boolean).map(([key, label, value, tone]) => html`<div class=${cx('counts__item', tone && value > 0 && `counts__item--${tone}`)} key=${key} data-count=${key}>
      <dt>${label}</dt><dd>${fmt.number(value ?? 0)}</dd></div>`)}
  </dl>`;
}

function ErrorList({ errors, total, header }) {
  if (!errors?.length) return null;
  return html`<div class="import-errors">
    <h3 class="subheading">${total > errors.length ? t('customers.import.errors.first', { count: fmt.number(errors.length), total: fmt.number(total) }) : t('customers.import.errors.title')}</h3>
    <div class="table-scroll table-scroll--plain">
      <table class="table table--compact" data-testid="import-errors">
        <thead><tr>
          <th scope="col" class="cell--end">${t('customers.import.errors.row')}</th>
          <th scope="col">${t('customers.import.errors.column')}</th>
          <th scope="col">${t('customers.import.errors.reason')}</th>
        </tr></thead>
        <tbody>${errors.map((e, i) => html`<tr key=${i}>
          <td class="cell--end cell--nowrap">${e.row != null ? fmt.number(e.row) : fmt.EMPTY}</td>
          <td class="import-errors__column">${columnText(header, e.column) || fmt.EMPTY}</td>
          <td class="import-errors__reason">${rowErrorText(e)}</td>
        </tr>`)}</tbody>
      </table>
    </div>
  </div>`;
}

function ErrorReport({ wizard, b }) {
  const name = `${String(b.filename || 'import').replace(/\.[^.]+$/, '')}-errors.csv`;
  return html`<${LinkButton} href=${errorsUrl(wizard.table, b.id)} label=${t('customers.import.errors.download')} icon="download" download=${name} />`;
}

function CheckStep({ wizard }) {
  const allOrNothing = useSignal(false);
  const b = wizard.batch.value;
  const c = b.check || {};
  const refused = (c.invalid || 0) + (c.duplicate_keys || 0);
  return html`<section class="card wizard__card" aria-labelledby="import-check-title" data-testid="import-check-result">
    <h2 class="subheading" id="import-check-title">${t('customers.import.check.title')}</h2>
    <${BatchFacts} batch=${b} />
    <p class="muted">${t('customers.import.check.help', { mode: modeLabel(b.mode) })}</p>
    <${Counts} testId="import-check-counts" items=${[
      ['new', t('customers.import.count.new'), c.new, 'success'],
      ['updated', t('customers.import.count.updated'), c.updated, 'info'],
      ['unchanged', t('customers.import.count.unchanged'), c.unchanged],
      ['invalid', t('customers.import.count.invalid'), c.invalid, 'danger'],
      ['duplicate_keys', t('customers.import.count.duplicate_keys'), c.duplicate_keys, 'warning'],
    ]} />
    ${refused > 0 ? html`<${Notice} tone="warning" message=${t('customers.import.check.some_refused', { count: fmt.number(refused) })}>
        <div class="notice__actions"><${ErrorReport} wizard=${wizard} b=${b} /></div><//>`
      : html`<${Notice} tone="success" message=${t('customers.import.check.all_good')} />`}
    <${ErrorList} errors=${c.errors} total=${refused} header=${b.header} />
    ${wizard.error.value && html`<${Notice} tone="danger" message=${wizard.error.value} />`}
    <div class="wizard__actions">
      <${Button} label=${t('customers.import.back_to_mapping')} icon="left" variant="ghost" onClick=${wizard.back} />
      <span class="pager__spacer"></span>
      <label class="field__check">
        <input type="checkbox" class="checkbox" name="all_or_nothing" checked=${allOrNothing.value} onChange=${(e) => (allOrNothing.value = e.currentTarget.checked)} />
        <span>${t('customers.import.run.all_or_nothing')}</span>
      </label>
      <${Button} label=${t('customers.import.run.submit')} variant="primary" icon="right" busy=${wizard.busy.value} testId="import-run" onClick=${() => wizard.run({ allOrNothing: allOrNothing.value })} />
    </div>
  </section>`;
}

// ---------------------------------------------------------------------------------------- 4 run

function Progress({ p }) {
  if (!p) return null;
  const pct = p.total ? Math.min(100, Math.floor((p.done / p.total) * 100)) : null;
  return html`<div class="import-progress" data-testid="import-progress">
    <progress max=${p.total || 1} value=${p.total ? p.done : undefined} aria-label=${t('customers.import.run.progress')}></progress>
    <p class="import-progress__text">
      <span>${p.total ? t('customers.import.run.rows', { done: fmt.number(p.done), total: fmt.number(p.total) }) : t('customers.import.run.starting')}</span>
      ${pct != null && html`<span>${pct}%</span>`}
      ${p.perSecond != null && html`<span>${t('customers.import.run.rate', { rate: fmt.number(Math.round(p.perSecond)) })}</span>`}
      ${p.left != null && html`<span>${t('customers.import.run.eta', { time: durationText(p.left) })}</span>`}
    </p>
  </div>`;
}

function UndoOutcome({ undo, wizard }) {
  if (!undo) return null;
  const skipped = undo.skipped || [];
  const total = undo.skipped_total ?? skipped.length;
  const recordHref = (id) => `#/customers/${encodeURIComponent(wizard.table)}/${encodeURIComponent(id)}`;
  return html`<div class="import-undo" data-testid="import-undo-result">
    <${Notice} tone=${total ? 'warning' : 'success'}
      message=${t('customers.import.undo.done', { deleted: fmt.number(undo.deleted ?? 0), restored: fmt.number(undo.restored ?? 0) })}>
      ${total > 0 && html`<p>${t('customers.import.undo.skipped', { count: fmt.number(total) })}</p>`}
    <//>
    ${skipped.length > 0 && html`<div class="table-scroll table-scroll--plain"><table class="table table--compact" data-testid="import-undo-skipped">
      <thead><tr>
        <th scope="col">${t('customers.import.undo.record')}</th>
        <th scope="col">${t('customers.import.undo.field')}</th>
        <th scope="col">${t('customers.import.errors.reason')}</th>
        <th scope="col">${t('customers.import.undo.current')}</th>
      </tr></thead>
      <tbody>${skipped.map((s, i) => html`<tr key=${i}>
        <td class="cell--nowrap"><a href=${recordHref(s.record_id)}>#${s.record_id}</a></td>
        <td>${s.field ? fieldLabel(wizard.byKey.get(s.field) || { key: s.field }) : fmt.EMPTY}</td>
        <td>${undoReason(s.reason)}</td>
        <td class="value-clip">${s.current == null || s.current === '' ? fmt.EMPTY : Array.isArray(s.current) ? s.current.join(t('customers.import.list_separator')) : String(s.current)}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </div>`;
}

function RunStep({ wizard, ctx }) {
  const b = wizard.batch.value;
  // A failed run says how far it got: its counters are what is in (each chunk is whole).
  const stopped = ['interrupted', 'undo_interrupted', 'expired'].includes(b.state);
  const r = b.result || (b.state === 'failed' || stopped ? b.progress : null);
  const running = !r && ['running', 'uploaded', 'checked', 'checking'].includes(b.state);
  const refused = r ? (r.invalid || 0) + (r.duplicate_keys || 0) : 0;
  const undo = wizard.undone.value || b.undo;

  async function undoIt() {
    const ok = await confirm({ title: t('customers.import.undo.title'), message: t('customers.import.undo.message', { file: b.filename }), confirmLabel: t('customers.import.undo.confirm'), danger: true });
    if (ok) await wizard.undo();
  }

  return html`<section class="card wizard__card" aria-labelledby="import-run-title" data-testid="import-run-result">
    <h2 class="subheading" id="import-run-title">${running ? t('customers.import.run.running_title') : t('customers.import.run.title')}</h2>
    <${BatchFacts} batch=${b} />
    ${running && html`<${Progress} p=${wizard.progress.value} />`}
    ${running && html`<p class="muted">${t('customers.import.run.resumable')}</p>`}
    ${r && html`<p class="wizard__state">${badge(stateLabel(b.state), stateTone(b.state))}</p>`}
    ${r && html`<${Counts} testId="import-result-counts" items=${[
      ['created', t('customers.import.count.created'), r.created, 'success'],
      ['updated', t('customers.import.count.updated'), r.updated, 'info'],
      ['unchanged', t('customers.import.count.unchanged'), r.unchanged],
      ['invalid', t('customers.import.count.invalid'), r.invalid, 'danger'],
      ['duplicate_keys', t('customers.import.count.duplicate_keys'), r.duplicate_keys, 'warning'],
    ]} />`}
    ${b.state === 'failed' && html`<${Notice} tone="danger" title=${t('customers.import.run.failed')} message=${b.all_or_nothing ? t('error.import_aborted', { invalid: fmt.number((b.progress?.invalid || 0) + (b.progress?.duplicate_keys || 0)) }) : batchMessage(b) || t('customers.import.run.failed_help')} />`}
    ${stopped && html`<${Notice} tone="warning" testId="import-stopped" title=${b.state === 'undo_interrupted' ? t('customers.import.undo.interrupted') : b.state === 'expired' ? t('customers.import.expired') : t('customers.import.run.interrupted')} message=${batchMessage(b)} />`}
    ${r && refused > 0 && html`<${Notice} tone="warning" message=${t('customers.import.run.some_refused', { count: fmt.number(refused) })}>
      <div class="notice__actions"><${ErrorReport} wizard=${wizard} b=${b} /></div><//>`}
    ${r && b.state === 'done' && refused === 0 && html`<${Notice} tone="success" message=${t('customers.import.run.all_in')} />`}
    <${UndoOutcome} undo=${undo} wizard=${wizard} />
    ${wizard.error.value && html`<${Notice} tone="danger" message=${wizard.error.value} />`}
    ${!running && html`<div class="wizard__actions">
      <${Button} label=${t('customers.import.another_file')} icon="upload" variant="ghost" onClick=${wizard.restart} />
      <span class="pager__spacer"></span>
      ${canUndo(b) && html`<${Button} label=${t('customers.import.undo.button')} variant="danger-ghost" busy=${wizard.busy.value} testId="import-undo" onClick=${undoIt} />`}
      ${canResume(b) && html`<${Button} label=${t('customers.import.resume.button')} icon="refresh" variant="secondary" busy=${wizard.busy.value} testId="import-resume" onClick=${() => wizard.resume()} />`}
      <${Button} label=${t('customers.import.open_records')} variant="primary" onClick=${() => ctx.navigate(`/customers/${encodeURIComponent(wizard.table)}`)} />
    </div>`}
  </section>`;
}

// ------------------------------------------------------------------------------------ history

function countsText(b) {
  // A run that stopped part-way: its counters are what is in.
  const run = b.result || (['interrupted', 'undo_interrupted'].includes(b.state) ? b.progress : null);
  const r = run || b.check;
  if (!r) return fmt.EMPTY;
  const parts = [];
  if (run) {
    parts.push(t('customers.import.history.created', { count: fmt.number(r.created ?? 0) }));
    parts.push(t('customers.import.history.updated', { count: fmt.number(r.updated ?? 0) }));
  }
  const refused = (r.invalid || 0) + (r.duplicate_keys || 0);
  if (refused) parts.push(t('customers.import.history.refused', { count: fmt.number(refused) }));
  return parts.join(t('customers.import.list_separator')) || fmt.EMPTY;
}

function History({ wizard, ctx }) {
  const previous = useConst(() => new Map()); // a page's cursor → the one before it ('' = the first)
  const table = useConst(() => createTable({
    paging: 'cursor',
    perPage: 25,
    signal: ctx.signal,
    // GET answers a page of batches, newest first; `before` (the last id seen) pages on.
    load: async ({ cursor, perPage, signal }) => {
      const items = await api.get(wizard.base, { before: cursor, limit: perPage }, { signal });
      const next = items.length === perPage ? String(items[items.length - 1].id) : null;
      if (next) previous.set(next, cursor ?? '');
      const prev = cursor ? previous.get(cursor) : null;
      return { items, total: items.length, total_exact: !next && !cursor, next_cursor: next, prev_cursor: prev ?? null };
    },
  }));
  // The list follows the wizard: a batch that moved on shows its new state.
  const b = wizard.batch.value;
  const seen = useRef(null);
  useEffect(() => {
    const now = `${b?.id}:${b?.state}`;
    if (seen.current !== null && seen.current !== now) table.reload();
    seen.current = now;
  }, [b?.id, b?.state]);

  async function undo(row) {
    const ok = await confirm({ title: t('customers.import.undo.title'), message: t('customers.import.undo.message', { file: row.filename }), confirmLabel: t('customers.import.undo.confirm'), danger: true });
    if (!ok) return;
    const dlg = openDialog({ title: t('customers.import.undo.title'), size: 'md', testId: 'import-undo-dialog', body: () => html`<p class="job__running"><span class="spinner"></span>${t('customers.import.undo.running')}</p>` });
    try {
      const { batch: fresh } = await undoBatch(wizard.base, row, { signal: ctx.signal });
      dlg.setBody(() => html`<${UndoOutcome} undo=${fresh.undo || { deleted: 0, restored: 0, skipped: [] }} wizard=${wizard} />`);
      dlg.setActions([{ label: t('common.close'), variant: 'primary', autofocus: true, onClick: (close) => close() }]);
      if (wizard.batch.value?.id === fresh.id) wizard.batch.value = fresh;
      table.reload();
    } catch (err) {
      dlg.close();
      toast(errorText(err), { type: 'error' });
    }
  }

  const columns = [
    { key: 'filename', label: t('customers.import.history.file'), className: 'import-history__file', render: (r) => twoLines(r.filename, fmt.dateTime(r.created_at)) },
    { key: 'mode', label: t('customers.import.mode.label'), nowrap: true, className: 'cell--wide-only', render: (r) => modeLabel(r.mode) },
    { key: 'state', label: t('customers.import.history.state'), nowrap: true, render: (r) => badge(stateLabel(r.state), stateTone(r.state)) },
    { key: 'counts', label: t('customers.import.history.counts'), className: 'import-history__counts', render: countsText },
    { key: 'created_by', label: t('customers.import.history.who'), nowrap: true, className: 'cell--wide-only', render: (r) => html`<span title=${r.created_by}>${String(r.created_by || '').replace(/\s*<[^>]*>$/, '') || fmt.EMPTY}</span>` },
    {
      key: 'actions', label: t('common.actions'), hideLabel: true, nowrap: true,
      render: (r) => canUndo(r) && html`<div class="row-actions row-actions--compact">
        <${Button} size="sm" variant="danger-ghost" icon="refresh" label=${t('customers.import.history.undo')} title=${t('customers.import.undo.button')} testId=${`import-undo-${r.id}`} onClick=${(e) => { e.stopPropagation(); undo(r); }} />
      </div>`,
    },
  ];
  return html`<section class="import-history" aria-labelledby="import-history-title" data-testid="import-history">
    <h2 class="subheading" id="import-history-title">${t('customers.import.history.title')}</h2>
    <${DataTable} table=${table} label=${t('customers.import.history.title')} columns=${columns} empty=${t('customers.import.history.empty')}
      onRowClick=${(r) => { ctx.setQuery({ batch: r.id }); ctx.reload(); }} />
  </section>`;
}

// --------------------------------------------------------------------------------------- view

export default function CustomerImportView({ ctx, data }) {
  const { design } = data;
  const wizard = useConst(() => createImportWizard(ctx, data));
  useEffect(() => {
    wizard.watch();
  }, []);
  const step = wizard.step.value;
  const listHref = `#/customers/${encodeURIComponent(design.key)}`;
  return html`<${Page} title=${t('customers.import.title', { table: tableLabel(design) })} subtitle=${t('customers.import.subtitle')}
    back=${{ href: listHref, label: tableLabel(design) }}>
    <div class="wizard stack">
      <${Stepper} current=${step === 'result' ? 'run' : step} />
      ${step === 'upload' && html`<${UploadStep} wizard=${wizard} />`}
      ${step === 'mapping' && html`<${MappingStep} wizard=${wizard} />`}
      ${step === 'check' && html`<${CheckStep} wizard=${wizard} />`}
      ${(step === 'run' || step === 'result') && html`<${RunStep} wizard=${wizard} ctx=${ctx} />`}
      <${History} wizard=${wizard} ctx=${ctx} />
    </div>
  <//>`;
}
