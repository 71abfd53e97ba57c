// Customer fields (GET /api/customers/tables/{key}: the staff-designed field definitions) as form
// fields of ui/form.js, and their values for display. One module, so the designer's preview, the
// create and edit screens and the list and detail screens show a field the same way.
//
//   formField(field)               → a createForm field definition (name = the field's key)
//   formValue(field, apiValue)     → the raw value the form control shows
//   apiValue(field, formValue)     → the value to send in `values` (null for empty)
//   formatValue(field, value)      → text for read-only display ('—' when empty)
//   recordFields(design)           → the active fields, in display order
//   fieldLabel / helpText / tableLabel / choiceLabel / statusLabel → texts in the panel's language
//   loadDesign(key) / recordLabel(design, record) / loadRecordLabel(key, id) → for references
//
// Control types registered here: cf-integer, cf-decimal (text inputs, exact: numbers travel as
// text), cf-date, cf-datetime (in the panel's time zone, Asia/Tokyo by default: sent with its
// offset), cf-multi (checkboxes), cf-reference (a search picker over the referenced table).

import { html, cx, useEffect, useRef, useState, uid } from '../lib.js';
import { api, isAbort } from '../api.js';
import { getLanguage, getLocale, getTimeZone, t, tOr } from '../i18n.js';
import * as fmt from '../format.js';
import { registerFieldType } from '../ui/form.js';
import { Icon } from '../ui/icons.js';
import { sentences } from '../password-rules.js';

export const FIELD_TYPES = [
  'text', 'long_text', 'integer', 'decimal', 'date', 'datetime', 'boolean', 'select', 'multi_select',
  'email', 'phone', 'url', 'postal_code', 'furigana', 'reference', 'file',
];
// Types whose values are strings people type (length and pattern apply; searched by the picker).
export const TEXT_TYPES = new Set(['text', 'long_text', 'email', 'phone', 'url', 'postal_code', 'furigana']);
export const MAX_LENGTHS = { text: 1000, long_text: 100000, email: 254, phone: 30, url: 2000, postal_code: 10, furigana: 1000 };
export const MAX_DECIMAL_SCALE = 6;
// File fields (the API's files.py): the kinds a field may accept, and the default limits.
export const FILE_KINDS = ['image', 'pdf', 'excel', 'word', 'powerpoint', 'csv', 'text'];
export const DEFAULT_FILE_KINDS = ['image', 'pdf', 'excel', 'word', 'csv'];
export const DEFAULT_MAX_SIZE = 10 * 1024 * 1024;
const ACCEPT = {
  image: 'image/png,image/jpeg,image/gif,image/webp', pdf: '.pdf,application/pdf', excel: '.xlsx,.xlsm,.xls',
  word: '.docx,.doc', powerpoint: '.pptx,.ppt', csv: '.csv,text/csv', text: '.txt,text/plain',
};

/** A decimal field's places (the API says decimal_places; older answers say scale). */
export const decimalPlaces = (field) => field.decimal_places ?? field.scale ?? 2;

// ---------------------------------------------------------------------------------------------
// Texts

function pick(label, fallback) {
  if (label && typeof label === 'object') return label[getLanguage()] || label.ja || label.en || fallback;
  return typeof label === 'string' && label ? label : fallback;
}

export const typeLabel = (type) => tOr(`customers.type.${type}`, type);
export const fieldLabel = (field) => pick(field.label, field.key);
export const helpText = (field) => pick(field.help, '');
export const tableLabel = (table) => pick(table.label, table.key);
export const choiceLabel = (choice) => pick(choice.label, choice.value);

/** A status's label in a table's design (the value itself when unknown). */
export function statusLabel(design, value) {
  const s = (design.statuses || []).find((c) => c.value === value);
  return s ? choiceLabel(s) : value || '';
}

/** The active fields of a design in display order (the API lists them in order). */
export function recordFields(design) {
  return (design.fields || []).filter((f) => !f.retired);
}

// ---------------------------------------------------------------------------------------------
// Time zone: a datetime is shown and typed as a wall time in the panel's zone, sent with its offset.

function zoneParts(ms, tz) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const o = {};
  for (const p of parts) o[p.type] = p.value;
  return o;
}

function zoneOffset(ms, tz) {
  const o = zoneParts(ms, tz);
  const wall = Date.UTC(Number(o.year), Number(o.month) - 1, Number(o.day), Number(o.hour) % 24, Number(o.minute), Number(o.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** "2026-04-01T00:30:00+00:00" → "2026-04-01T09:30" (in `tz`). */
export function isoToWall(iso, tz = getTimeZone()) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const o = zoneParts(ms, tz);
  return `${o.year}-${o.month}-${o.day}T${o.hour}:${o.minute}`;
}

/** "2026-04-01T09:30" (a wall time in `tz`) → "2026-04-01T09:30:00+09:00"; null if malformed. */
export function wallToIso(wall, tz = getTimeZone()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(String(wall || ''));
  if (!m) return null;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  let offset = zoneOffset(guess, tz);
  const again = zoneOffset(guess - offset, tz);
  if (again !== offset) offset = again;
  const minutes = Math.round(offset / 60000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const pad = (n) => String(n).padStart(2, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// ---------------------------------------------------------------------------------------------
// Designs and record labels (for references)

const designs = new Map(); // key → Promise<design>
const labels = new Map(); // `${table}:${id}` → text

/** The design of a table (cached for the visit of the panel; `fresh` reloads it). */
export function loadDesign(key, { signal, fresh = false } = {}) {
  if (fresh || !designs.has(key)) {
    const p = api.get(`/api/customers/tables/${encodeURIComponent(key)}`, null, { signal });
    designs.set(key, p);
    p.catch(() => designs.delete(key));
  }
  return designs.get(key);
}

/** Forget cached designs (after a design change). */
export function forgetDesign(key) {
  if (key) designs.delete(key);
  else designs.clear();
}

const LABEL_TYPES = new Set(['text', 'furigana', 'email', 'phone', 'select', 'postal_code', 'url', 'integer']);

/** A short text naming a record: its first filled text-like fields (up to two), else "#id". */
export function recordLabel(design, record) {
  const parts = [];
  for (const f of recordFields(design)) {
    if (!LABEL_TYPES.has(f.type)) continue;
    const v = record.values?.[f.key];
    if (v == null || v === '') continue;
    parts.push(formatValue(f, v));
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' · ') : `#${record.id}`;
}

export function rememberLabel(table, id, text) {
  labels.set(`${table}:${id}`, text);
}

export function knownLabel(table, id) {
  return labels.get(`${table}:${id}`) || null;
}

/** The label of record `id` of `table` (fetched once, then remembered). */
export async function loadRecordLabel(table, id, { signal } = {}) {
  const known = knownLabel(table, id);
  if (known) return known;
  const [design, record] = await Promise.all([
    loadDesign(table, { signal }),
    api.get(`/api/customers/tables/${encodeURIComponent(table)}/records/${encodeURIComponent(id)}`, null, { signal }),
  ]);
  const text = recordLabel(design, record);
  rememberLabel(table, id, text);
  return text;
}

/** Records of `table` matching `query` (any text field contains it, or the id is it). */
export async function searchRecords(table, query, { signal, limit = 8 } = {}) {
  const design = await loadDesign(table, { signal });
  const q = String(query || '').trim();
  const conditions = recordFields(design)
    .filter((f) => TEXT_TYPES.has(f.type) && f.type !== 'long_text')
    .map((f) => ({ field: f.key, op: 'contains', value: q }));
  if (/^\d{1,18}$/.test(q)) conditions.push({ field: 'id', op: 'eq', value: Number(q) });
  const where = q && conditions.length ? JSON.stringify({ or: conditions }) : null;
  if (q && !where) return [];
  const page = await api.get(`/api/customers/tables/${encodeURIComponent(table)}/records`, { where, per_page: limit }, { signal });
  return (page.items || []).map((r) => {
    const text = recordLabel(design, r);
    rememberLabel(table, r.id, text);
    return { id: r.id, label: text };
  });
}

// ---------------------------------------------------------------------------------------------
// Values

const nfkc = (s) => String(s ?? '').normalize('NFKC').trim();

/** The raw value a form control shows for an API value. */
export function formValue(field, value) {
  if (field.type === 'file') return { current: value ?? null, pick: null, remove: false };
  if (value == null) {
    if (field.type === 'multi_select') return [];
    if (field.type === 'boolean' || field.type === 'select' || field.type === 'reference') return null;
    return '';
  }
  switch (field.type) {
    case 'datetime':
      return isoToWall(value);
    case 'integer':
    case 'decimal':
      return String(value);
    case 'multi_select':
      return Array.isArray(value) ? [...value] : [value];
    default:
      return value;
  }
}

/** The value to send in `values` for what the form holds (null when empty). */
export function apiValue(field, value) {
  if (value == null || value === '' || (Array.isArray(value) && value.length === 0)) return null;
  switch (field.type) {
    case 'datetime':
      return wallToIso(value) ?? value;
    case 'integer':
    case 'decimal':
      return nfkc(value).replace(/,/g, '');
    case 'reference':
      return Number(value);
    default:
      return value;
  }
}

function bool(value) {
  return value ? t('common.yes') : t('common.no');
}

/** A value for read-only display, in the panel's language and time zone ('—' when empty). */
export function formatValue(field, value) {
  if (value == null || value === '' || (Array.isArray(value) && value.length === 0)) return fmt.EMPTY;
  const choice = (v) => {
    const c = (field.choices || []).find((x) => x.value === v);
    return c ? choiceLabel(c) : String(v);
  };
  switch (field.type) {
    case 'boolean':
      return bool(value);
    case 'select':
      return choice(value);
    case 'multi_select':
      return (Array.isArray(value) ? value : [value]).map(choice).join(t('customers.fields.list_separator'));
    case 'date': {
      // A date has no time zone: shown as written, whatever the browser's zone.
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
      if (!m) return String(value);
      return new Intl.DateTimeFormat(getLocale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    }
    case 'datetime':
      return fmt.dateTime(value);
    case 'integer':
      return fmt.number(Number(value));
    case 'decimal': {
      const [whole, frac] = String(value).split('.');
      const grouped = /^-?\d+$/.test(whole) ? fmt.number(Number(whole)) : whole;
      return frac != null ? `${grouped}.${frac}` : grouped;
    }
    case 'reference':
      return (field.references && knownLabel(field.references, value)) || `#${value}`;
    case 'file':
      return value && typeof value === 'object' ? `${value.name} (${fmt.bytes(value.size)})` : String(value);
    default:
      return String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks in the browser (the server checks again, and its messages are shown at the fields)

function numberCheck(value, field, { scale = 0 } = {}) {
  if (value === '' || value == null) return null;
  const text = nfkc(value).replace(/,/g, '');
  const pattern = scale > 0 ? /^[-+]?(\d+(\.\d*)?|\.\d+)$/ : /^[-+]?\d+$/;
  if (!pattern.test(text)) return scale > 0 ? t('customers.fields.error.decimal') : t('customers.fields.error.integer');
  const places = (text.split('.')[1] || '').replace(/0+$/, '').length;
  if (scale > 0 && places > scale) return t('customers.fields.error.scale', { scale });
  const n = Number(text);
  if (field.min != null && n < field.min) return t('form.error.min', { min: field.min });
  if (field.max != null && n > field.max) return t('form.error.max', { max: field.max });
  return null;
}

function lengthCheck(value, field) {
  if (typeof value !== 'string' || value === '') return null;
  if (field.maxlength != null && value.length > field.maxlength) return t('form.error.maxlength', { max: field.maxlength });
  return null;
}

// ---------------------------------------------------------------------------------------------
// Controls

function inputProps({ field, slot, id, describedBy, disabled }) {
  return {
    id,
    name: field.name,
    class: cx('input', field.inputClass),
    disabled,
    readonly: !!field.readonly,
    placeholder: field.placeholder,
    'aria-describedby': describedBy || undefined,
    'aria-invalid': slot.error.value ? 'true' : undefined,
    'aria-required': field.required ? 'true' : undefined,
    'data-testid': field.testId,
    ref: (el) => {
      slot.el = el;
    },
  };
}

function TextLike(kind) {
  return (props) => {
    const { slot, field } = props;
    return html`<input
      ...${inputProps(props)}
      type=${kind}
      inputmode=${field.inputmode}
      autocomplete="off"
      value=${slot.value.value ?? ''}
      onInput=${(e) => {
        slot.value.value = e.currentTarget.value;
      }}
    />`;
  };
}

function MultiControl({ field, slot, id, describedBy, disabled }) {
  const value = Array.isArray(slot.value.value) ? slot.value.value : [];
  const options = [...(field.options || [])];
  for (const v of value) if (!options.some((o) => o.value === v)) options.push({ value: v, label: v, retired: true });
  const toggle = (v, on) => {
    const next = on ? [...value, v] : value.filter((x) => x !== v);
    const order = options.map((o) => o.value);
    slot.value.value = next.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  };
  return html`<div class="cf-multi" role="group" aria-describedby=${describedBy || undefined} data-testid=${field.testId}>
    ${options.map(
      (o, i) => html`<label class="cf-multi__option" key=${o.value}>
        <input
          type="checkbox"
          class="checkbox"
          id=${i === 0 ? id : undefined}
          name=${field.name}
          disabled=${disabled || (o.retired && !value.includes(o.value))}
          checked=${value.includes(o.value)}
          ref=${i === 0 ? (el) => (slot.el = el) : undefined}
          onChange=${(e) => toggle(o.value, e.currentTarget.checked)}
        />
        <span>${o.label}${o.retired ? html` <span class="muted">${t('customers.fields.retired_choice')}</span>` : ''}</span>
      </label>`,
    )}
  </div>`;
}

function ReferenceControl({ field, slot, id, describedBy, disabled }) {
  const [query, setQuery] = useState(null); // null: not typing (the input shows the chosen record)
  const [results, setResults] = useState([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [, setLabelTick] = useState(0);
  const [state, setState] = useState('idle'); // idle | loading | error
  const listId = useRef(uid('lb')).current;
  const timer = useRef(null);
  const controller = useRef(null);
  const target = field.references;
  const selected = slot.value.value;

  useEffect(() => {
    if (selected == null || !target || knownLabel(target, selected)) return undefined;
    const c = new AbortController();
    loadRecordLabel(target, selected, { signal: c.signal })
      .then(() => setLabelTick((n) => n + 1))
      .catch(() => {});
    return () => c.abort();
  }, [selected, target]);
  useEffect(() => () => controller.current?.abort(), []);

  function search(q) {
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      controller.current?.abort();
      const c = new AbortController();
      controller.current = c;
      setState('loading');
      try {
        const found = await searchRecords(target, q, { signal: c.signal });
        setResults(found);
        setActive(0);
        setState('idle');
      } catch (err) {
        if (!isAbort(err)) setState('error');
      }
    }, 250);
  }

  function choose(item) {
    slot.value.value = item.id;
    setQuery(null);
    setOpen(false);
  }

  function onKeyDown(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) {
        setOpen(true);
        search(query ?? '');
        return;
      }
      const n = results.length;
      if (n) setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter' && open) {
      e.preventDefault();
      if (results[active]) choose(results[active]);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      setQuery(null);
    }
  }

  const shown = query ?? (selected != null ? (knownLabel(target, selected) || `#${selected}`) : '');
  return html`<div class="cf-ref">
    <div class="cf-ref__row">
      <span class="cf-ref__icon"><${Icon} name="search" size=${16} /></span>
      <input
        ...${inputProps({ field, slot, id, describedBy, disabled })}
        type="text"
        role="combobox"
        autocomplete="off"
        aria-autocomplete="list"
        aria-expanded=${String(open)}
        aria-controls=${listId}
        aria-activedescendant=${open && results[active] ? `${listId}-${active}` : undefined}
        placeholder=${t('customers.fields.reference_placeholder')}
        value=${shown}
        onFocus=${(e) => e.currentTarget.select()}
        onInput=${(e) => {
          const q = e.currentTarget.value;
          setQuery(q);
          setOpen(true);
          search(q);
        }}
        onKeyDown=${onKeyDown}
        onBlur=${() =>
          setTimeout(() => {
            setOpen(false);
            setQuery(null);
          }, 150)}
      />
      ${selected != null && !disabled &&
      html`<button type="button" class="cf-ref__clear" aria-label=${t('customers.fields.reference_clear')} title=${t('customers.fields.reference_clear')}
        onClick=${() => {
          slot.value.value = null;
          setQuery(null);
        }}><${Icon} name="close" size=${14} /></button>`}
    </div>
    ${selected != null && html`<span class="cf-ref__id">#${selected}</span>`}
    ${open &&
    html`<ul class="cf-ref__list" id=${listId} role="listbox" aria-label=${field.label}>
      ${state === 'loading' && results.length === 0 && html`<li class="cf-ref__note">${t('common.loading')}</li>`}
      ${state === 'error' && html`<li class="cf-ref__note">${t('customers.fields.reference_error')}</li>`}
      ${state === 'idle' && results.length === 0 && html`<li class="cf-ref__note">${t('customers.fields.reference_none')}</li>`}
      ${results.map(
        (r, i) => html`<li
          key=${r.id}
          id=${`${listId}-${i}`}
          role="option"
          aria-selected=${String(i === active)}
          class=${cx('cf-ref__option', i === active && 'is-active')}
          onMouseDown=${(e) => {
            e.preventDefault();
            choose(r);
          }}
        ><span>${r.label}</span><span class="muted">#${r.id}</span></li>`,
      )}
    </ul>`}
  </div>`;
}

function FileControl({ field, slot, id, describedBy, disabled }) {
  const raw = slot.value.value || { current: null, pick: null, remove: false };
  const set = (patch) => {
    slot.value.value = { ...raw, ...patch };
  };
  const current = raw.current && !raw.remove ? raw.current : null;
  return html`<div class="cf-file">
    ${current &&
    html`<div class="cf-file__current">
      ${field.fileUrl ? html`<a href=${field.fileUrl} download=${current.name}>${current.name}</a>` : html`<span>${current.name}</span>`}
      <span class="muted">${fmt.bytes(current.size)}</span>
      ${!disabled && html`<button type="button" class="btn btn--ghost btn--sm" onClick=${() => set({ remove: true, pick: null })}>${t('customers.fields.file_remove')}</button>`}
    </div>`}
    ${raw.remove && raw.current &&
    html`<div class="cf-file__current">
      <span class="muted">${t('customers.fields.file_removed', { name: raw.current.name })}</span>
      <button type="button" class="btn btn--ghost btn--sm" onClick=${() => set({ remove: false })}>${t('customers.fields.file_undo')}</button>
    </div>`}
    <input
      type="file"
      class="cf-file__input"
      id=${id}
      name=${field.name}
      accept=${field.accept || undefined}
      disabled=${disabled}
      aria-describedby=${describedBy || undefined}
      aria-invalid=${slot.error.value ? 'true' : undefined}
      data-testid=${field.testId}
      ref=${(el) => (slot.el = el)}
      onChange=${(e) => set({ pick: e.currentTarget.files?.[0] || null })}
    />
  </div>`;
}

function fileCheck(value, field) {
  const v = value || {};
  if (field.required && !v.pick && (!v.current || v.remove)) return t('form.error.required');
  if (v.pick && field.maxSize && v.pick.size > field.maxSize) return t('customers.fields.error.file_size', { size: fmt.bytes(field.maxSize) });
  if (v.pick && v.pick.size === 0) return t('customers.fields.error.file_empty');
  return null;
}

let registered = false;

/** Registers the control types (once). */
export function registerCustomerFieldTypes() {
  if (registered) return;
  registered = true;
  registerFieldType('cf-integer', {
    Control: TextLike('text'),
    empty: '',
    read: (raw) => (raw == null ? '' : String(raw).trim()),
    check: (value, field) => numberCheck(value, field),
  });
  registerFieldType('cf-decimal', {
    Control: TextLike('text'),
    empty: '',
    read: (raw) => (raw == null ? '' : String(raw).trim()),
    check: (value, field) => numberCheck(value, field, { scale: field.scale }),
  });
  registerFieldType('cf-text', {
    Control: TextLike('text'),
    empty: '',
    read: (raw) => String(raw ?? '').trim(),
    check: lengthCheck,
  });
  registerFieldType('cf-date', {
    Control: TextLike('date'),
    empty: '',
    read: (raw) => String(raw ?? ''),
    check: (value, field, slot) => (slot.el?.validity?.badInput ? t('customers.fields.error.date') : null),
  });
  registerFieldType('cf-datetime', {
    Control: TextLike('datetime-local'),
    empty: '',
    read: (raw) => String(raw ?? ''),
    check: (value, field, slot) => (slot.el?.validity?.badInput ? t('customers.fields.error.datetime') : null),
  });
  registerFieldType('cf-multi', { Control: MultiControl, empty: [], read: (raw) => (Array.isArray(raw) ? raw : []) });
  registerFieldType('cf-file', { Control: FileControl, empty: null, read: (raw) => raw ?? null, check: fileCheck });
  registerFieldType('cf-reference', { Control: ReferenceControl, empty: null, read: (raw) => (raw == null || raw === '' ? null : Number(raw)) });
}

function choiceOptions(field, current) {
  const options = [];
  for (const c of field.choices || []) {
    const isCurrent = Array.isArray(current) ? current.includes(c.value) : current === c.value;
    if (c.retired && !isCurrent) continue;
    options.push({ value: c.value, label: c.retired ? `${choiceLabel(c)} ${t('customers.fields.retired_choice')}` : choiceLabel(c), retired: !!c.retired });
  }
  return options;
}

function helpFor(field) {
  const parts = [helpText(field)];
  if (field.type === 'datetime') parts.push(t('customers.fields.datetime_help', { tz: getTimeZone() }));
  if (field.type === 'decimal' && decimalPlaces(field) > 0) parts.push(t('customers.fields.decimal_help', { scale: decimalPlaces(field) }));
  if (field.type === 'decimal' && decimalPlaces(field) === 0) parts.push(t('customers.fields.whole_help'));
  if (field.type === 'file') {
    const kinds = field.file_types?.length ? field.file_types : DEFAULT_FILE_KINDS;
    parts.push(t('customers.fields.file_help', { types: kinds.map((k) => tOr(`customers.fields.file_kind.${k}`, k)).join(t('customers.fields.list_separator')), size: fmt.bytes(field.max_size || DEFAULT_MAX_SIZE) }));
  }
  if ((field.type === 'integer' || field.type === 'decimal') && (field.min != null || field.max != null)) {
    if (field.min != null && field.max != null) parts.push(t('customers.fields.range_help', { min: field.min, max: field.max }));
    else if (field.min != null) parts.push(t('customers.fields.min_help', { min: field.min }));
    else parts.push(t('customers.fields.max_help', { max: field.max }));
  }
  return sentences(...parts);
}

/**
 * The form field of a customer field. `current` is the value being edited (so a retired choice
 * the record still has is offered); `name` overrides the form field's name (the designer's
 * preview names fields by key and type so a type change starts a fresh control).
 */
export function formField(field, { current, name, fileUrl } = {}) {
  registerCustomerFieldTypes();
  const base = {
    name: name || field.key,
    label: fieldLabel(field),
    help: helpFor(field),
    required: !!field.required,
    testId: `cf-${field.key}`,
  };
  const max = field.max_length ?? MAX_LENGTHS[field.type];
  switch (field.type) {
    case 'long_text':
      return { ...base, type: 'textarea', rows: 4, maxlength: max };
    case 'integer':
      return { ...base, type: 'cf-integer', inputmode: 'numeric', min: field.min, max: field.max, width: 'sm' };
    case 'decimal':
      return { ...base, type: 'cf-decimal', inputmode: 'decimal', min: field.min, max: field.max, scale: decimalPlaces(field), width: 'sm' };
    case 'date':
      return { ...base, type: 'cf-date', width: 'sm' };
    case 'datetime':
      return { ...base, type: 'cf-datetime', width: 'md' };
    case 'boolean':
      return {
        ...base,
        type: 'select',
        width: 'sm',
        options: [
          { value: null, label: t('customers.fields.unset') },
          { value: true, label: t('common.yes') },
          { value: false, label: t('common.no') },
        ],
      };
    case 'select':
      return { ...base, type: 'select', options: [{ value: null, label: t('customers.fields.choose') }, ...choiceOptions(field, current)] };
    case 'multi_select':
      return { ...base, type: 'cf-multi', options: choiceOptions(field, current) };
    case 'email':
      return { ...base, type: 'email', maxlength: max, autocomplete: 'off' };
    case 'phone':
      return { ...base, type: 'cf-text', inputmode: 'tel', maxlength: max, width: 'md', placeholder: t('customers.fields.phone_placeholder') };
    case 'url':
      return { ...base, type: 'cf-text', inputmode: 'url', maxlength: max, placeholder: 'https://' };
    case 'postal_code':
      return { ...base, type: 'cf-text', inputmode: 'numeric', maxlength: max, width: 'sm', placeholder: t('customers.fields.postal_placeholder') };
    case 'furigana':
      return { ...base, type: 'cf-text', maxlength: max, placeholder: t('customers.fields.furigana_placeholder') };
    case 'reference':
      return { ...base, type: 'cf-reference', references: field.references, width: 'md' };
    case 'file': {
      const kinds = field.file_types?.length ? field.file_types : DEFAULT_FILE_KINDS;
      return { ...base, type: 'cf-file', accept: kinds.map((k) => ACCEPT[k]).filter(Boolean).join(','), maxSize: field.max_size || DEFAULT_MAX_SIZE, fileUrl };
    }
    default:
      return { ...base, type: 'cf-text', maxlength: max };
  }
}

/** The form fields of a record form: the active fields in display order. */
export function recordFormFields(design, { values = {}, fileUrl } = {}) {
  return recordFields(design).map((f) => formField(f, { current: values[f.key], fileUrl: fileUrl?.(f) }));
}
