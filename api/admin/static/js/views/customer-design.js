// The table designer (#/customers/<key>/design): the table's fields (active and retired) with
// add, edit, reorder (drag, or the up/down buttons), retire and restore; the table's settings
// (labels, statuses and their transitions, member table, owner-only, the name and company
// fields the likely duplicates compare); and beside them a live
// preview of the record form, built by customers/fields.js exactly as the create and edit
// screens build it, following the field being edited as it is typed.
//
// A type change is checked first (POST …/fields/<key>/check): the records whose value would not
// convert are listed (id, value, reason) and the change needs a confirmation (allow_loss). If
// the API answers with a job (large tables), its progress is shown in the job dialog.

import { html, cx, signal, effect, useConst, useEffect, useRef } from '../lib.js';
import { api } from '../api.js';
import { t, tOr } from '../i18n.js';
import { href } from '../router.js';
import { can } from '../session.js';
import { errorText, fieldErrorText } from '../errors.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button, IconButton, LinkButton } from '../ui/button.js';
import { badge } from '../ui/cells.js';
import { createForm, Form, registerFieldType } from '../ui/form.js';
import { confirm, formDialog, openDialog } from '../ui/dialog.js';
import { jobDialog } from '../ui/job-dialog.js';
import { toast } from '../ui/toast.js';
import { Icon } from '../ui/icons.js';
import {
  DEFAULT_FILE_KINDS, FIELD_TYPES, FILE_KINDS, MAX_DECIMAL_SCALE, MAX_LENGTHS, TEXT_TYPES,
  choiceLabel, fieldLabel, forgetDesign, formField, isoToWall, recordFields, registerCustomerFieldTypes, tableLabel, typeLabel, wallToIso,
} from '../customers/fields.js';

registerCustomerFieldTypes();

const NUMBER_TYPES = new Set(['integer', 'decimal']);
const CHOICE_TYPES = new Set(['select', 'multi_select']);
const NAME_TYPES = new Set(['text', 'furigana']);
const NOT_UNIQUE = new Set(['long_text', 'multi_select', 'file']);
// Types a field keeps for good (add a new field instead): their values cannot be converted.
const FIXED_TYPES = new Set(['reference', 'file']);
const MIB = 1024 * 1024;
const sameKinds = (kinds) => [...kinds].sort((a, b) => FILE_KINDS.indexOf(a) - FILE_KINDS.indexOf(b));

const tableBase = (key) => `/api/customers/tables/${encodeURIComponent(key)}`;

export async function load(ctx) {
  const key = ctx.params.table;
  const [design, tables] = await Promise.all([
    api.get(tableBase(key), null, { signal: ctx.signal }),
    api.get('/api/customers/tables', null, { signal: ctx.signal }),
  ]);
  return { design, tables };
}

// ---------------------------------------------------------------------------------------------
// Editing controls: a list of choices (field choices, table statuses), a transition matrix, and
// a default value that follows the field's type.

const emptyText = (v) => v == null || String(v).trim() === '';

/** [{value, label:{ja,en}, retired}] → the rows the choices editor holds. */
function choiceRows(choices) {
  return (choices || []).map((c) => ({ value: c.value, ja: c.label?.ja || '', en: c.label?.en || '', retired: !!c.retired, saved: true, id: c.value }));
}

/** The rows back as the API's choices. */
function choicesOut(rows) {
  return (rows || []).map((r) => {
    const out = { value: r.value.trim() };
    const label = {};
    if (!emptyText(r.ja)) label.ja = r.ja.trim();
    if (!emptyText(r.en)) label.en = r.en.trim();
    if (Object.keys(label).length) out.label = label;
    if (r.retired) out.retired = true;
    return out;
  });
}

let rowSeq = 0;

/** A choices-editor row's label in the panel's language. */
const rowLabel = (r) => choiceLabel({ value: r.value, label: { ja: r.ja, en: r.en } });

function ChoicesControl({ field, slot, id, describedBy, disabled }) {
  const rows = slot.value.value || [];
  const set = (next) => {
    slot.value.value = next;
  };
  const update = (i, patch) => set(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const add = () => {
    rowSeq += 1;
    set([...rows, { value: '', ja: '', en: '', retired: false, saved: false, id: `new-${rowSeq}` }]);
    setTimeout(() => slot.el?.closest('.choices')?.querySelector('.choices__row:last-child input')?.focus(), 0);
  };
  return html`<div class="choices" aria-describedby=${describedBy || undefined} data-testid=${field.testId}>
    ${rows.length > 0 &&
    html`<div class="choices__head" aria-hidden="true">
      <span>${t('customers.design.choice.value')}</span><span>${t('customers.design.choice.label_ja')}</span><span>${t('customers.design.choice.label_en')}</span><span></span>
    </div>`}
    <ul class="choices__list">
      ${rows.map(
        (r, i) => html`<li class=${cx('choices__row', r.retired && 'is-retired')} key=${r.id}>
          <input class="input input--sm" id=${i === 0 ? id : undefined} ref=${i === 0 ? (el) => (slot.el = el) : undefined}
            aria-label=${t('customers.design.choice.value_n', { n: i + 1 })} value=${r.value} readonly=${r.saved} disabled=${disabled}
            placeholder=${t('customers.design.choice.value')}
            title=${r.saved ? t('customers.design.choice.value_fixed') : undefined}
            onInput=${(e) => update(i, { value: e.currentTarget.value })} />
          <input class="input input--sm" aria-label=${t('customers.design.choice.label_ja_n', { n: i + 1 })} value=${r.ja} disabled=${disabled}
            placeholder=${r.value || t('customers.design.choice.label_ja')} onInput=${(e) => update(i, { ja: e.currentTarget.value })} />
          <input class="input input--sm" aria-label=${t('customers.design.choice.label_en_n', { n: i + 1 })} value=${r.en} disabled=${disabled}
            placeholder=${r.value || t('customers.design.choice.label_en')} onInput=${(e) => update(i, { en: e.currentTarget.value })} />
          ${r.saved
            ? html`<button type="button" class="btn btn--sm btn--ghost choices__action" disabled=${disabled}
                onClick=${() => update(i, { retired: !r.retired })}>${r.retired ? t('customers.design.choice.restore') : t('customers.design.choice.retire')}</button>`
            : html`<button type="button" class="btn btn--sm btn--ghost choices__action" disabled=${disabled}
                onClick=${() => set(rows.filter((_, j) => j !== i))}>${t('customers.design.choice.remove')}</button>`}
        </li>`,
      )}
    </ul>
    <button type="button" class="btn btn--sm btn--secondary choices__add" disabled=${disabled} onClick=${add}>
      <${Icon} name="plus" size=${14} /><span class="btn__label">${field.addLabel || t('customers.design.choice.add')}</span>
    </button>
  </div>`;
}

function checkChoices(rows) {
  const seen = new Set();
  for (const r of rows || []) {
    const v = String(r.value || '').trim();
    if (!v) return t('customers.design.choice.error_empty');
    if (seen.has(v)) return t('customers.design.choice.error_twice', { value: v });
    seen.add(v);
  }
  return null;
}

function TransitionsControl({ field, slot, id, describedBy, disabled, form }) {
  const raw = slot.value.value || { limited: false, map: {} };
  const statuses = (form.field('statuses')?.value.value || []).filter((s) => String(s.value || '').trim() && !s.retired);
  const name = rowLabel;
  const set = (next) => {
    slot.value.value = next;
  };
  const toggle = (from, to, on) => {
    const list = raw.map[from] || [];
    set({ ...raw, map: { ...raw.map, [from]: on ? [...list, to] : list.filter((x) => x !== to) } });
  };
  return html`<div class="transitions" aria-describedby=${describedBy || undefined}>
    <label class="field__check">
      <input type="checkbox" class="checkbox" id=${id} ref=${(el) => (slot.el = el)} checked=${raw.limited} disabled=${disabled || statuses.length < 2}
        onChange=${(e) => set({ ...raw, limited: e.currentTarget.checked })} />
      <span>${t('customers.design.transitions.limit')}</span>
    </label>
    ${raw.limited && statuses.length > 1 &&
    html`<div class="table-scroll table-scroll--plain transitions__scroll">
      <table class="table table--compact transitions__table">
        <caption class="visually-hidden">${field.label}</caption>
        <thead><tr><th scope="col">${t('customers.design.transitions.from_to')}</th>${statuses.map((s) => html`<th scope="col" key=${s.value}>${name(s)}</th>`)}</tr></thead>
        <tbody>
          ${statuses.map(
            (from) => html`<tr key=${from.value}>
              <th scope="row">${name(from)}</th>
              ${statuses.map((to) =>
                from.value === to.value
                  ? html`<td key=${to.value} class="transitions__self">—</td>`
                  : html`<td key=${to.value}><input type="checkbox" class="checkbox" disabled=${disabled}
                      aria-label=${t('customers.design.transitions.cell', { from: name(from), to: name(to) })}
                      checked=${(raw.map[from.value] || []).includes(to.value)}
                      onChange=${(e) => toggle(from.value, to.value, e.currentTarget.checked)} /></td>`,
              )}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`}
  </div>`;
}

function DefaultControl({ field, slot, id, describedBy, disabled, form }) {
  const type = form.field('type')?.value.value || 'text';
  const value = slot.value.value ?? '';
  const common = { id, name: field.name, class: 'input', disabled, 'aria-describedby': describedBy || undefined, ref: (el) => (slot.el = el) };
  const onInput = (e) => {
    slot.value.value = e.currentTarget.value;
  };
  if (type === 'select' || type === 'boolean') {
    const options =
      type === 'boolean'
        ? [{ value: 'true', label: t('common.yes') }, { value: 'false', label: t('common.no') }]
        : (form.field('choices')?.value.value || []).filter((c) => String(c.value || '').trim() && !c.retired).map((c) => ({ value: c.value, label: rowLabel(c) }));
    return html`<select ...${common} value=${value} onChange=${onInput}>
      <option value="">${t('customers.design.no_default')}</option>
      ${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}
    </select>`;
  }
  const inputType = type === 'date' ? 'date' : type === 'datetime' ? 'datetime-local' : 'text';
  return html`<input ...${common} type=${inputType} value=${value} autocomplete="off" onInput=${onInput} />`;
}

registerFieldType('cf-choices', { Control: ChoicesControl, empty: [], read: (raw) => raw || [], check: (rows) => checkChoices(rows) });
registerFieldType('cf-transitions', { Control: TransitionsControl, empty: { limited: false, map: {} }, read: (raw) => raw || { limited: false, map: {} } });
registerFieldType('cf-default', { Control: DefaultControl, empty: '', read: (raw) => String(raw ?? '').trim() });

// ---------------------------------------------------------------------------------------------
// A field definition ⇄ the editor's values

const numOrNull = (v) => (v == null || v === '' || Number.isNaN(v) ? null : Number(v));

function labelOut(ja, en) {
  const out = {};
  if (!emptyText(ja)) out.ja = ja.trim();
  if (!emptyText(en)) out.en = en.trim();
  return Object.keys(out).length ? out : null;
}

function defaultIn(field) {
  const d = field.default;
  if (d == null) return '';
  if (field.type === 'boolean') return d ? 'true' : 'false';
  if (field.type === 'datetime') return isoToWall(d);
  return String(d);
}

function defaultOut(type, raw) {
  if (emptyText(raw) || type === 'reference' || type === 'multi_select') return null;
  if (type === 'boolean') return raw === 'true';
  if (type === 'datetime') return wallToIso(raw) ?? raw;
  return raw;
}

function editorValues(field) {
  if (!field) {
    return { type: 'text', label_ja: '', label_en: '', key: '', required: false, unique: false, indexed: false, shown_in_list: true, choices: [], on_delete: 'restrict', references: null, default: '', file_types: [...DEFAULT_FILE_KINDS] };
  }
  return {
    key: field.key,
    type: field.type,
    label_ja: field.label?.ja || '',
    label_en: field.label?.en || '',
    required: !!field.required,
    unique: !!field.unique,
    indexed: !!field.indexed,
    shown_in_list: field.shown_in_list !== false,
    max_length: field.max_length ?? null,
    min: field.min ?? null,
    max: field.max ?? null,
    scale: field.decimal_places ?? field.scale ?? null,
    pattern: field.pattern || '',
    max_size: field.max_size ? Math.round((field.max_size / MIB) * 100) / 100 : null,
    file_types: field.file_types?.length ? [...field.file_types] : [...DEFAULT_FILE_KINDS],
    choices: choiceRows(field.choices),
    default: defaultIn(field),
    help_ja: field.help?.ja || '',
    help_en: field.help?.en || '',
    references: field.references || null,
    on_delete: field.on_delete || 'restrict',
  };
}

/** The field definition the editor's values describe (every attribute; null = not set). */
function fieldFrom(v, original) {
  const type = v.type || 'text';
  return {
    key: original ? original.key : v.key,
    type,
    label: labelOut(v.label_ja, v.label_en) || {},
    required: !!v.required,
    unique: NOT_UNIQUE.has(type) ? false : !!v.unique,
    indexed: type === 'long_text' || type === 'file' ? false : !!v.indexed,
    shown_in_list: !!v.shown_in_list,
    max_length: TEXT_TYPES.has(type) ? numOrNull(v.max_length) : null,
    pattern: TEXT_TYPES.has(type) && !emptyText(v.pattern) ? v.pattern.trim() : null,
    min: NUMBER_TYPES.has(type) ? numOrNull(v.min) : null,
    max: NUMBER_TYPES.has(type) ? numOrNull(v.max) : null,
    scale: type === 'decimal' ? numOrNull(v.scale) : null,
    choices: CHOICE_TYPES.has(type) ? choicesOut(v.choices) : [],
    default: type === 'file' ? null : defaultOut(type, v.default),
    max_size: type === 'file' && v.max_size ? Math.round(v.max_size * MIB) : null,
    file_types: type === 'file' ? sameKinds(v.file_types || []) : null,
    help: labelOut(v.help_ja, v.help_en),
    references: type === 'reference' ? (original ? original.references : v.references) : null,
    on_delete: type === 'reference' ? (original ? original.on_delete : v.on_delete) : null,
  };
}

const ATTRIBUTES = ['type', 'label', 'required', 'unique', 'indexed', 'shown_in_list', 'max_length', 'pattern', 'min', 'max', 'scale', 'choices', 'default', 'help', 'max_size', 'file_types'];

/** POST body of a new field: the set attributes only. */
function createBody(f) {
  const body = { key: f.key };
  for (const name of [...ATTRIBUTES, 'references', 'on_delete']) {
    const v = f[name];
    if (v == null || (Array.isArray(v) && v.length === 0)) continue;
    body[name] = v;
  }
  if (!f.label || !Object.keys(f.label).length) delete body.label;
  return body;
}

/** PATCH body: the attributes that differ from the field as it is. */
function changeBody(f, original) {
  const before = {
    ...original,
    label: original.label || {},
    choices: original.choices || [],
    help: original.help && Object.keys(original.help).length ? original.help : null,
    scale: original.decimal_places ?? original.scale ?? null, // sent as scale: both APIs take it
    file_types: original.type === 'file' ? sameKinds(original.file_types?.length ? original.file_types : DEFAULT_FILE_KINDS) : null,
  };
  const body = {};
  for (const name of ATTRIBUTES) {
    const now = f[name] ?? null;
    const was = before[name] ?? null;
    if (JSON.stringify(now) !== JSON.stringify(was)) body[name] = now;
  }
  if (body.label === null) body.label = {};
  if ('choices' in body && body.choices === null) body.choices = [];
  return body;
}

/**
 * Server field names → the editor's ("label.ja" → "label_ja", "choices[2].value" → "choices",
 * "decimal_places" → "scale").
 */
function editorErrors(err) {
  for (const e of err.errors || []) {
    e.field = String(e.field || '')
      .replace(/^(label|help)\.(ja|en)$/, '$1_$2')
      .replace(/^(choices|statuses|file_types)\[.*$/, '$1')
      .replace(/^decimal_places$/, 'scale')
      .replace(/^transitions\..*$/, 'transitions');
  }
  return err;
}

// ---------------------------------------------------------------------------------------------
// The model

function createDesigner(ctx, data) {
  const key = ctx.params.table;
  const design = signal(data.design);
  const tables = data.tables.filter((x) => !x.retired);
  const editor = signal(null); // { original (null when adding), form }
  const showRetired = signal(false);
  const preview = createForm({ fields: [] });

  async function refresh(next) {
    forgetDesign(key);
    design.value = next || (await api.get(tableBase(key), null, { signal: ctx.signal }));
  }

  // The preview: the active fields, with the one being edited (or added) as it is now.
  const stop = effect(() => {
    const d = design.value;
    const ed = editor.value;
    const draft = ed ? fieldFrom(ed.form.watchValues.value, ed.original) : null;
    const list = [];
    let placed = false;
    for (const f of recordFields(d)) {
      if (ed?.original && ed.original.key === f.key) {
        list.push({ ...formField(draft, { name: `${f.key}__${draft.type}__editing` }) });
        placed = true;
      } else {
        list.push(formField(f, { name: `${f.key}__${f.type}` }));
      }
    }
    if (ed && !placed) {
      const label = draft.label && Object.keys(draft.label).length ? draft.label : { ja: t('customers.design.new_field'), en: t('customers.design.new_field') };
      list.push(formField({ ...draft, key: draft.key || 'new', label }, { name: `new__${draft.type}__editing` }));
    }
    preview.setFields(list);
  });

  function editorFields(original) {
    const isRef = original?.type === 'reference';
    const fixed = original && FIXED_TYPES.has(original.type);
    const typeOptions = FIELD_TYPES.filter((ty) => !original || ty === original.type || (!fixed && !FIXED_TYPES.has(ty))).map((ty) => ({ value: ty, label: typeLabel(ty) }));
    const refOptions = [{ value: null, label: t('customers.fields.choose') }, ...tables.map((x) => ({ value: x.key, label: `${tableLabel(x)} (${x.key})` }))];
    const type = (v) => v.type || 'text';
    return [
      { type: 'section', label: t('customers.design.section.basics') },
      { name: 'label_ja', type: 'text', label: t('customers.design.attr.label_ja'), required: true, maxlength: 200, autofocus: true },
      { name: 'label_en', type: 'text', label: t('customers.design.attr.label_en'), maxlength: 200 },
      original
        ? { name: 'key', type: 'static', label: t('customers.design.attr.key'), value: original.key, help: t('customers.design.key_fixed') }
        : { name: 'key', type: 'text', label: t('customers.design.attr.key'), required: true, maxlength: 30, autocomplete: 'off', help: t('customers.design.key_rule'), placeholder: 'company_name' },
      {
        name: 'type', type: 'select', label: t('customers.design.attr.type'), options: typeOptions, disabled: fixed,
        help: original ? (fixed ? t('customers.design.type_fixed') : t('customers.design.type_change_help')) : null,
      },
      { name: 'references', type: 'select', label: t('customers.design.attr.references'), options: refOptions, required: true, disabled: !!original, visible: (v) => type(v) === 'reference', help: original ? t('customers.design.type_reference_fixed') : null },
      {
        name: 'on_delete', type: 'select', label: t('customers.design.attr.on_delete'), disabled: !!original, visible: (v) => type(v) === 'reference',
        options: [{ value: 'restrict', label: t('customers.design.on_delete.restrict') }, { value: 'set_null', label: t('customers.design.on_delete.set_null') }],
      },
      { name: 'choices', type: 'cf-choices', label: t('customers.design.attr.choices'), required: true, visible: (v) => CHOICE_TYPES.has(type(v)), help: t('customers.design.choices_help'), testId: 'choices-editor' },
      { type: 'section', label: t('customers.design.section.rules') },
      { name: 'required', type: 'checkbox', label: t('customers.design.attr.required'), help: t('customers.design.required_help') },
      { name: 'unique', type: 'checkbox', label: t('customers.design.attr.unique'), help: t('customers.design.unique_help'), visible: (v) => !NOT_UNIQUE.has(type(v)) },
      { name: 'indexed', type: 'checkbox', label: t('customers.design.attr.indexed'), help: t('customers.design.indexed_help'), visible: (v) => !['long_text', 'reference', 'file'].includes(type(v)) },
      { name: 'file_types', type: 'cf-multi', label: t('customers.design.attr.file_types'), required: true, visible: (v) => type(v) === 'file',
        options: FILE_KINDS.map((k) => ({ value: k, label: tOr(`customers.fields.file_kind.${k}`, k) })) },
      { name: 'max_size', type: 'number', label: t('customers.design.attr.max_size'), width: 'sm', step: 'any', min: 0.01, max: 100, visible: (v) => type(v) === 'file', help: t('customers.design.max_size_help') },
      { name: 'max_length', type: 'number', label: t('customers.design.attr.max_length'), step: 1, min: 1, width: 'sm', visible: (v) => TEXT_TYPES.has(type(v)), help: t('customers.design.max_length_help') },
      { name: 'min', type: 'number', label: t('customers.design.attr.min'), width: 'sm', step: 'any', visible: (v) => NUMBER_TYPES.has(type(v)) },
      { name: 'max', type: 'number', label: t('customers.design.attr.max'), width: 'sm', step: 'any', visible: (v) => NUMBER_TYPES.has(type(v)) },
      { name: 'scale', type: 'number', label: t('customers.design.attr.scale'), width: 'sm', step: 1, min: 0, max: MAX_DECIMAL_SCALE, visible: (v) => type(v) === 'decimal', help: t('customers.design.scale_help') },
      { name: 'pattern', type: 'text', label: t('customers.design.attr.pattern'), maxlength: 200, visible: (v) => TEXT_TYPES.has(type(v)), help: t('customers.design.pattern_help'), placeholder: '^[A-Z]{2}-\\d{4}$' },
      { type: 'section', label: t('customers.design.section.display') },
      { name: 'shown_in_list', type: 'checkbox', label: t('customers.design.attr.shown_in_list'), help: t('customers.design.shown_in_list_help') },
      { name: 'default', type: 'cf-default', label: t('customers.design.attr.default'), visible: (v) => !['reference', 'multi_select', 'file'].includes(type(v)), help: t('customers.design.default_help') },
      { name: 'help_ja', type: 'text', label: t('customers.design.attr.help_ja'), maxlength: 200 },
      { name: 'help_en', type: 'text', label: t('customers.design.attr.help_en'), maxlength: 200 },
    ];
  }

  function validateEditor(v) {
    const errors = {};
    if (v.type === 'text' || TEXT_TYPES.has(v.type)) {
      const limit = MAX_LENGTHS[v.type];
      if (v.max_length != null && (!Number.isInteger(v.max_length) || v.max_length < 1 || v.max_length > limit)) errors.max_length = t('customers.design.error.max_length', { max: fmt.number(limit) });
    }
    if (NUMBER_TYPES.has(v.type) && v.min != null && v.max != null && v.min > v.max) errors.max = t('customers.design.error.range');
    return errors;
  }

  function open(original) {
    const form = createForm({
      fields: editorFields(original),
      values: editorValues(original),
      submitLabel: original ? t('customers.design.save_field') : t('customers.design.add_field'),
      submitTestId: 'field-editor-save',
      cancelLabel: t('common.cancel'),
      onCancel: close,
      validate: validateEditor,
      errorFieldByCode: { key_taken: 'key' },
      onSubmit: (v) => save(v, original),
      onDone: (result) => {
        if (!result || result.cancelled) return;
        editor.value = null;
        toast(original ? t('customers.design.field_saved', { name: fieldLabel(result.field) }) : t('customers.design.field_added', { name: fieldLabel(result.field) }), { type: 'success' });
        setTimeout(() => document.querySelector(`[data-field-row="${result.field.key}"] .designer__edit`)?.focus(), 0);
      },
    });
    form.watchValues = form.watch();
    editor.value = { original, form };
    form.focus();
    setTimeout(() => document.querySelector('.designer__editor')?.scrollIntoView({ block: 'nearest' }), 0);
  }

  function close() {
    const ed = editor.value;
    editor.value = null;
    if (ed?.original) setTimeout(() => document.querySelector(`[data-field-row="${ed.original.key}"] .designer__edit`)?.focus(), 0);
  }

  async function save(v, original) {
    const f = fieldFrom(v, original);
    try {
      if (!original) {
        const next = await api.post(`${tableBase(key)}/fields`, createBody(f));
        await refresh(next);
        return { field: f };
      }
      const body = changeBody(f, original);
      if (!Object.keys(body).length) return { field: f };
      if ('type' in body || (original.type === 'decimal' && 'scale' in body)) {
        const check = await api.post(`${tableBase(key)}/fields/${encodeURIComponent(original.key)}/check`, body);
        const ok = await confirmTypeChange(original, f, check);
        if (!ok) return { cancelled: true };
        if (check.problem_count > 0) body.allow_loss = true;
      }
      const result = await api.patch(`${tableBase(key)}/fields/${encodeURIComponent(original.key)}`, body);
      const job = result?.job_id ? await api.get(`/api/jobs/${encodeURIComponent(result.job_id)}`) : result?.job || null;
      if (job) {
        await jobDialog(job, {
          title: t('customers.design.job.title', { name: fieldLabel(original) }),
          messages: { running: t('customers.design.job.running'), done: t('customers.design.job.done') },
        });
      } else if (result?.lost > 0) {
        toast(t('customers.design.values_emptied', { count: fmt.number(result.lost) }), { type: 'info' });
      }
      await refresh();
      return { field: f };
    } catch (err) {
      throw editorErrors(err);
    }
  }

  function confirmTypeChange(original, f, check) {
    const lost = check.problem_count || 0;
    const body = html`<div class="stack type-check" data-testid="type-change-report">
      <p>${f.type === original.type
        ? t('customers.design.check.intro_places', { name: fieldLabel(original), from: original.decimal_places ?? original.scale ?? 2, to: f.scale ?? 2 })
        : t('customers.design.check.intro', { name: fieldLabel(original), from: typeLabel(original.type), to: typeLabel(f.type) })}</p>
      ${lost === 0
        ? html`<${Notice} tone="success" message=${t('customers.design.check.all_convert', { count: fmt.number(check.converted || 0) })} />`
        : html`<${Notice} tone="warning" title=${t('customers.design.check.lost_title', { count: fmt.number(lost) })} message=${t('customers.design.check.lost_message')} />
          <div class="table-scroll table-scroll--plain">
            <table class="table table--compact">
              <caption class="visually-hidden">${t('customers.design.check.caption')}</caption>
              <thead><tr>
                <th scope="col">${t('customers.design.check.col.record')}</th>
                <th scope="col">${t('customers.design.check.col.value')}</th>
                <th scope="col">${t('customers.design.check.col.reason')}</th>
              </tr></thead>
              <tbody>
                ${(check.problems || []).map(
                  (p) => html`<tr key=${p.record_id}>
                    <td class="cell--nowrap"><a href=${href(`/customers/${encodeURIComponent(key)}/${p.record_id}`)}>#${p.record_id}</a></td>
                    <td class="type-check__value">${p.value == null ? fmt.EMPTY : typeof p.value === 'string' ? p.value : JSON.stringify(p.value)}</td>
                    <td>${fieldErrorText({ code: p.code, message: p.message })}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>
          ${lost > (check.problems || []).length && html`<p class="muted">${t('customers.design.check.more', { count: fmt.number(lost - check.problems.length) })}</p>`}`}
    </div>`;
    const dlg = openDialog({
      title: t('customers.design.check.title'),
      size: 'lg',
      testId: 'type-change-check',
      body,
      actions: [
        { label: t('common.cancel'), onClick: (close) => close(false), autofocus: lost > 0 },
        {
          label: lost > 0 ? t('customers.design.check.confirm_loss', { count: fmt.number(lost) }) : t('customers.design.check.confirm'),
          variant: lost > 0 ? 'danger' : 'primary',
          autofocus: lost === 0,
          testId: 'type-change-confirm',
          onClick: (close) => close(true),
        },
      ],
    });
    return dlg.result.then((v) => v === true);
  }

  async function move(fieldKey, delta) {
    const keys = recordFields(design.value).map((f) => f.key);
    const from = keys.indexOf(fieldKey);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= keys.length) return;
    keys.splice(to, 0, keys.splice(from, 1)[0]);
    await reorder(keys, fieldKey, delta < 0 ? 'up' : 'down');
  }

  async function reorder(keys, focusKey, dir) {
    const d = design.value;
    const byKey = Object.fromEntries(d.fields.map((f) => [f.key, f]));
    design.value = { ...d, fields: [...keys.map((k) => byKey[k]), ...d.fields.filter((f) => f.retired)] }; // at once
    try {
      await refresh(await api.post(`${tableBase(key)}/field-order`, { fields: keys }));
    } catch (err) {
      toast(errorText(err), { type: 'error' });
      await refresh().catch(() => {});
    }
    if (focusKey) {
      setTimeout(() => {
        const row = document.querySelector(`[data-field-row="${focusKey}"]`);
        (row?.querySelector(`[data-move=${dir}]:not(:disabled)`) || row?.querySelector('.designer__edit'))?.focus();
      }, 0);
    }
  }

  async function retire(f) {
    const ok = await confirm({
      title: t('customers.design.retire_title'),
      message: t('customers.design.retire_message', { name: fieldLabel(f) }),
      confirmLabel: t('customers.design.retire'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`${tableBase(key)}/fields/${encodeURIComponent(f.key)}`);
      if (editor.value?.original?.key === f.key) editor.value = null;
      await refresh();
      toast(t('customers.design.retired_done', { name: fieldLabel(f) }), { type: 'success' });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  async function restore(f) {
    try {
      await refresh(await api.post(`${tableBase(key)}/fields/${encodeURIComponent(f.key)}/restore`, {}));
      toast(t('customers.design.restored_done', { name: fieldLabel(f) }), { type: 'success' });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  async function settings() {
    const d = design.value;
    // The duplicates' name + company fields (api/customers/duplicates.py `fits`): a name is
    // text or furigana; a company a reference to another table, or text.
    const active = (d.fields || []).filter((f) => !f.retired);
    const companyFits = (f) => (f.type === 'reference' ? f.references !== d.key : f.type === 'text');
    const option = (f) => ({ value: f.key, label: `${fieldLabel(f)} (${f.key})` });
    const saved = await formDialog({
      title: t('customers.design.settings.title'),
      size: 'lg',
      testId: 'table-settings',
      fields: [
        { name: 'key', type: 'static', label: t('customers.tables.field.key'), value: d.key },
        { name: 'label_ja', type: 'text', label: t('customers.tables.field.label_ja'), required: true, maxlength: 200 },
        { name: 'label_en', type: 'text', label: t('customers.tables.field.label_en'), maxlength: 200 },
        { type: 'section', label: t('customers.design.settings.statuses_section') },
        { name: 'statuses', type: 'cf-choices', label: t('customers.design.settings.statuses'), help: t('customers.design.settings.statuses_help'), addLabel: t('customers.design.settings.add_status') },
        { name: 'transitions', type: 'cf-transitions', label: t('customers.design.settings.transitions'), help: t('customers.design.settings.transitions_help') },
        { type: 'section', label: t('customers.design.settings.access') },
        { name: 'owner_only', type: 'checkbox', label: t('customers.design.settings.owner_only'), help: t('customers.design.settings.owner_only_help') },
        { name: 'is_member_table', type: 'checkbox', label: t('customers.design.settings.member_table'), help: t('customers.design.settings.member_table_help') },
        { type: 'section', label: t('customers.design.settings.duplicates_section') },
        { name: 'name_field', type: 'select', label: t('customers.design.settings.name_field'), help: t('customers.design.settings.name_field_help'),
          options: [{ value: null, label: t('customers.design.settings.automatic') }, ...active.filter((f) => NAME_TYPES.has(f.type)).map(option)] },
        { name: 'company_field', type: 'select', label: t('customers.design.settings.company_field'), help: t('customers.design.settings.company_field_help'),
          options: [{ value: null, label: t('customers.design.settings.automatic') }, ...active.filter(companyFits).map(option)] },
      ],
      values: {
        label_ja: d.label?.ja || '',
        label_en: d.label?.en || '',
        statuses: choiceRows(d.statuses),
        transitions: { limited: Object.keys(d.transitions || {}).length > 0, map: { ...(d.transitions || {}) } },
        owner_only: !!d.owner_only,
        is_member_table: !!d.is_member_table,
        name_field: d.name_field ?? null,
        company_field: d.company_field ?? null,
      },
      submitLabel: t('common.save'),
      submitTestId: 'table-settings-save',
      errorFieldByCode: { member_table_taken: 'is_member_table' },
      onSubmit: async (v) => {
        const statuses = choicesOut(v.statuses);
        const values = new Set(statuses.filter((s) => !s.retired).map((s) => s.value));
        const transitions = {};
        if (v.transitions.limited) {
          for (const s of values) transitions[s] = (v.transitions.map[s] || []).filter((x) => values.has(x) && x !== s);
        }
        try {
          return await api.patch(tableBase(key), {
            label: labelOut(v.label_ja, v.label_en) || {}, statuses, transitions, owner_only: v.owner_only, is_member_table: v.is_member_table,
            name_field: v.name_field ?? null, company_field: v.company_field ?? null,
          });
        } catch (err) {
          throw editorErrors(err);
        }
      },
    });
    if (saved) {
      await refresh(saved);
      toast(t('customers.design.settings.saved'), { type: 'success' });
    }
  }

  return { key, stop, design, editor, preview, showRetired, open, close, move, reorder, retire, restore, settings };
}

// ---------------------------------------------------------------------------------------------
// The view

function flags(f) {
  return [
    f.required && badge(t('customers.design.flag.required'), 'danger'),
    f.unique && badge(t('customers.design.flag.unique'), 'accent'),
    f.indexed && badge(t('customers.design.flag.indexed'), 'info'),
    f.shown_in_list && badge(t('customers.design.flag.list'), 'neutral'),
  ].filter(Boolean);
}

function FieldRow({ model, field, index, count }) {
  const editing = model.editor.value?.original?.key === field.key;
  const drag = {
    draggable: true,
    onDragStart: (e) => {
      e.dataTransfer.effectAllowed = 'move';
      e.dataTransfer.setData('text/plain', field.key);
    },
    onDragOver: (e) => {
      e.preventDefault();
      e.currentTarget.classList.add('is-drop');
    },
    onDragLeave: (e) => e.currentTarget.classList.remove('is-drop'),
    onDrop: (e) => {
      e.preventDefault();
      e.currentTarget.classList.remove('is-drop');
      const from = e.dataTransfer.getData('text/plain');
      if (!from || from === field.key) return;
      const keys = recordFields(model.design.value).map((f) => f.key).filter((k) => k !== from);
      keys.splice(keys.indexOf(field.key) + (index > recordFields(model.design.value).findIndex((f) => f.key === from) ? 1 : 0), 0, from);
      model.reorder(keys, from, 'up');
    },
  };
  const extra = [field.type === 'reference' && field.references && t('customers.design.refers_to', { table: field.references }), (field.choices || []).length > 0 && t('customers.design.choice_count', { count: (field.choices || []).filter((c) => !c.retired).length })].filter(Boolean);
  return html`<li class=${cx('designer__row', editing && 'is-editing')} data-field-row=${field.key} ...${drag}>
    <span class="designer__grip" title=${t('customers.design.drag')} aria-hidden="true"><${Icon} name="grip" size=${16} /></span>
    <div class="designer__info">
      <div class="designer__name"><span class="designer__label">${fieldLabel(field)}</span><code class="designer__key">${field.key}</code></div>
      <div class="designer__meta">${badge(typeLabel(field.type), 'neutral')}${flags(field).slice(0, 3)}${extra.length > 0 && html`<span class="muted">${extra.join(' · ')}</span>`}</div>
    </div>
    <div class="designer__actions">
      <${IconButton} icon="up" label=${t('customers.design.move_up', { name: fieldLabel(field) })} data-move="up" disabled=${index === 0} onClick=${() => model.move(field.key, -1)} />
      <${IconButton} icon="down" label=${t('customers.design.move_down', { name: fieldLabel(field) })} data-move="down" disabled=${index === count - 1} onClick=${() => model.move(field.key, 1)} />
      <${Button} size="sm" icon="edit" class="designer__edit" label=${t('customers.design.edit')} aria-label=${t('customers.design.edit_named', { name: fieldLabel(field) })} onClick=${() => model.open(field)} />
      <${IconButton} icon="trash" variant="danger-ghost" label=${t('customers.design.retire_named', { name: fieldLabel(field) })} onClick=${() => model.retire(field)} />
    </div>
  </li>`;
}

function RetiredRow({ model, field }) {
  return html`<li class="designer__row is-retired" data-field-row=${field.key}>
    <div class="designer__info">
      <div class="designer__name"><span class="designer__label">${fieldLabel(field)}</span><code class="designer__key">${field.key}</code></div>
      <div class="designer__meta">${badge(typeLabel(field.type), 'neutral')}${badge(t('customers.design.retired_badge'), 'warning')}</div>
    </div>
    <div class="designer__actions">
      <${Button} size="sm" icon="refresh" label=${t('customers.design.restore')} aria-label=${t('customers.design.restore_named', { name: fieldLabel(field) })} onClick=${() => model.restore(field)} />
    </div>
  </li>`;
}

function FieldList({ model }) {
  const d = model.design.value;
  const active = recordFields(d);
  const retired = (d.fields || []).filter((f) => f.retired);
  return html`<section class="card card--flush designer__fields" aria-labelledby="designer-fields">
    <header class="designer__head">
      <h2 class="subheading" id="designer-fields">${t('customers.design.fields', { count: active.length })}</h2>
      <${Button} size="sm" icon="plus" variant="primary" label=${t('customers.design.add_field')} testId="field-add" onClick=${() => model.open(null)} disabled=${!!model.editor.value && !model.editor.value.original} />
    </header>
    ${active.length === 0
      ? html`<p class="designer__empty">${t('customers.design.no_fields')}</p>`
      : html`<ol class="designer__list">${active.map((f, i) => html`<${FieldRow} key=${f.key} model=${model} field=${f} index=${i} count=${active.length} />`)}</ol>`}
    <p class="designer__hint muted">${t('customers.design.reorder_hint')}</p>
    ${retired.length > 0 &&
    html`<div class="designer__retired">
      <button type="button" class="btn btn--ghost btn--sm" aria-expanded=${String(model.showRetired.value)} onClick=${() => (model.showRetired.value = !model.showRetired.value)}>
        <${Icon} name=${model.showRetired.value ? 'down' : 'right'} size=${14} /><span class="btn__label">${t('customers.design.retired_fields', { count: retired.length })}</span>
      </button>
      ${model.showRetired.value && html`<ul class="designer__list">${retired.map((f) => html`<${RetiredRow} key=${f.key} model=${model} field=${f} />`)}</ul>`}
    </div>`}
  </section>`;
}

function Editor({ model }) {
  const ed = model.editor.value;
  if (!ed) return null;
  return html`<section class="card card--form designer__editor" aria-labelledby="designer-editor" data-testid="field-editor">
    <div class="designer__editor-head">
      <h2 class="subheading" id="designer-editor">
        ${ed.original ? t('customers.design.edit_title', { name: fieldLabel(ed.original) }) : t('customers.design.add_title')}
      </h2>
      <button type="button" class="btn btn--ghost btn--sm designer__to-preview"
        onClick=${() => document.getElementById('designer-preview')?.scrollIntoView({ behavior: 'smooth', block: 'start' })}>
        ${t('customers.design.to_preview')}
      </button>
    </div>
    <${Form} form=${ed.form} />
  </section>`;
}

function Preview({ model }) {
  const d = model.design.value;
  const ed = model.editor.value;
  const type = ed ? ed.form.field('type').value.value : null;
  const box = useRef(null);
  useEffect(() => {
    // Bring the field being edited into the preview's view (the preview scrolls on its own).
    const el = box.current?.querySelector('[data-field$="__editing"]');
    if (el && box.current.scrollHeight > box.current.clientHeight) box.current.scrollTop = Math.max(0, el.offsetTop - 96);
  }, [ed, type]);
  return html`<aside class="card designer__preview" aria-labelledby="designer-preview" data-testid="design-preview" ref=${box}>
    <h2 class="subheading" id="designer-preview">${t('customers.design.preview')}</h2>
    <p class="muted designer__preview-help">${t('customers.design.preview_help', { table: tableLabel(d) })}</p>
    ${recordFields(d).length === 0 && !model.editor.value
      ? html`<p class="designer__empty">${t('customers.design.preview_empty')}</p>`
      : html`<${Form} form=${model.preview} />`}
  </aside>`;
}

function StatusSummary({ design }) {
  const statuses = (design.statuses || []).filter((s) => !s.retired);
  const bits = [
    statuses.length ? t('customers.design.summary.statuses', { list: statuses.map(choiceLabel).join(t('customers.fields.list_separator')) }) : t('customers.design.summary.no_statuses'),
    design.owner_only && t('customers.tables.owner_only'),
    design.is_member_table && t('customers.tables.member_table'),
  ].filter(Boolean);
  return html`<p class="designer__summary muted">${bits.join(' · ')}</p>`;
}

export default function CustomerDesignView({ ctx, data }) {
  const model = useConst(() => createDesigner(ctx, data));
  useEffect(() => () => {
    model.stop();
    forgetDesign(model.key);
  }, []);
  const d = model.design.value;
  const base = `/customers/${encodeURIComponent(d.key)}`;
  return html`<${Page}
    title=${t('customers.design.title', { table: tableLabel(d) })}
    back=${{ href: href('/customers'), label: t('nav.customers') }}
    actions=${[
      html`<${Button} label=${t('customers.design.settings.button')} icon="sliders" onClick=${model.settings} testId="table-settings-open" />`,
      can('customers:write') && html`<${LinkButton} href=${href(`${base}/new`)} label=${t('customers.tables.new_record')} icon="plus" />`,
      html`<${LinkButton} href=${href(base)} label=${t('customers.design.open_records')} icon="list" />`,
    ]}
  >
    <${StatusSummary} design=${d} />
    <div class="designer">
      <div class="designer__main">
        <${Editor} model=${model} />
        <${FieldList} model=${model} />
      </div>
      <${Preview} model=${model} />
    </div>
  <//>`;
}
