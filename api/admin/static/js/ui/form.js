// Forms generated from a field list. The state lives in a model (signals), the view is <Form>.
//
//   const form = createForm({
//     fields: [
//       { name: 'email', type: 'email', label: t('staff.field.email'), required: true, autocomplete: 'off' },
//       { name: 'role', type: 'select', label: t('staff.field.role'), options: [{ value: 'admin', label: … }] },
//       { name: 'is_active', type: 'checkbox', label: t('staff.field.is_active') },
//       { name: 'note', type: 'textarea', label: …, visible: (v) => v.is_active },   // shown when…
//     ],
//     values: user,                                    // initial values by name
//     submitLabel: t('common.save'),
//     onSubmit: (values, { changed }) => api.patch(`/api/staff/users/${id}`, changed),   // throw ApiError → shown
//     onDone: (result) => toast(t('common.saved'), { type: 'success' }),
//     errorFieldByCode: { email_taken: 'email' },      // errors without a field → which field shows them
//     validate: (v) => (v.new_password !== v.confirm ? { confirm: t('account.error.mismatch') } : null),
//   });
//   html`<${Form} form=${form} />`       (in a dialog: formDialog({ title, ...the same options }))
//   form.values()  form.changed()  form.setErrors(err)  form.clearErrors()  form.submit()  form.focus()
//   form.field('email').value          the field's value as a signal (read or set it)
//   form.setFields([...])              replace the field list (values of fields that stay are kept)
//
// Field types: text, email, password (with show/hide), number, textarea, select (option values
// keep their type, null allowed), checkbox, static (read-only text), section (a heading between
// groups). Field options: name, type, label, help, required, value, placeholder, options
// [{value, label}], min, max, step, minlength, maxlength, rows, autocomplete, inputmode, disabled,
// readonly, autofocus, width ('sm'), visible(values) → boolean, testId.
//
// New types (a date in JST, a multi-select, a reference picker …) plug in with
// registerFieldType(name, { Control, empty, read, check, layout }): see README.md.
//
// The browser's validation bubbles are off (they would speak the browser's language): required,
// e-mail, number, min/max and length are checked here, with our messages. `validate(values)`
// adds checks between fields: return { fieldName: message } or null; it runs after the built-in
// checks and before onSubmit. Server field errors (ApiError.errors, codes translated through the
// catalogs with their params) appear under their field and in a linked summary at the top; other
// errors appear in the summary. `submitTestId` sets data-testid on the submit button.

import { html, cx, signal, computed, batch, uid, useState } from '../lib.js';
import { ApiError, isAbort } from '../api.js';
import { errorText, fieldErrorText } from '../errors.js';
import { t } from '../i18n.js';
import { EMPTY } from '../format.js';

// The HTML standard's "valid e-mail address" (what <input type=email> accepts).
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function normaliseField(name) {
  return String(name || '').replace(/^\$\./, '').replace(/^(body|values)\./, '');
}

// ---------------------------------------------------------------------------------------------
// Field types. A type is { Control, empty, read, check, layout }:
//   Control({ field, slot, id, describedBy, disabled })  renders the input; slot.value is the
//                                  field's signal (raw, as typed), slot.el can hold the element
//   empty                          the raw value of a new, empty field
//   read(raw, field) → value       what values() returns (trimmed text, a number or null …)
//   check(value, field, slot) → message | null   the built-in checks (after `required`)
//   layout                         'field' (label above), 'checkbox' (label beside), 'static',
//                                  'section'

function commonProps({ field, slot, id, describedBy, disabled }) {
  return {
    id,
    name: field.name,
    class: 'input',
    disabled,
    readonly: !!field.readonly,
    autofocus: !!field.autofocus,
    placeholder: field.placeholder,
    autocomplete: field.autocomplete,
    inputmode: field.inputmode,
    'aria-describedby': describedBy || undefined,
    'aria-invalid': slot.error.value ? 'true' : undefined,
    required: !!field.required,
    'data-testid': field.testId,
    ref: (el) => {
      slot.el = el;
    },
  };
}

function TextControl(props) {
  const { field, slot } = props;
  return html`<input
    ...${commonProps(props)}
    type=${field.type === 'email' || field.type === 'password' ? field.type : 'text'}
    minlength=${field.minlength}
    maxlength=${field.maxlength}
    spellcheck=${field.type === 'email' || field.type === 'password' ? 'false' : undefined}
    value=${slot.value.value ?? ''}
    onInput=${(e) => {
      slot.value.value = e.currentTarget.value;
    }}
  />`;
}

function PasswordControl(props) {
  const [shown, setShown] = useState(false);
  const { field, slot } = props;
  return html`<div class="field__password">
    <input
      ...${commonProps(props)}
      type=${shown ? 'text' : 'password'}
      minlength=${field.minlength}
      maxlength=${field.maxlength}
      spellcheck="false"
      value=${slot.value.value ?? ''}
      onInput=${(e) => {
        slot.value.value = e.currentTarget.value;
      }}
    />
    <button type="button" class="field__reveal" aria-pressed=${String(shown)} onClick=${() => setShown(!shown)}>
      ${shown ? t('form.hide_password') : t('form.show_password')}
    </button>
  </div>`;
}

function TextareaControl(props) {
  const { field, slot } = props;
  return html`<textarea
    ...${commonProps(props)}
    rows=${field.rows || 4}
    minlength=${field.minlength}
    maxlength=${field.maxlength}
    value=${slot.value.value ?? ''}
    onInput=${(e) => {
      slot.value.value = e.currentTarget.value;
    }}
  />`;
}

function NumberControl(props) {
  const { field, slot } = props;
  return html`<input
    ...${commonProps(props)}
    type="number"
    min=${field.min}
    max=${field.max}
    step=${field.step}
    value=${slot.value.value ?? ''}
    onInput=${(e) => {
      slot.value.value = e.currentTarget.value;
    }}
  />`;
}

/** Options keep their type (numbers, null): the <option>s carry their index. */
function selectOptions(field, value) {
  const options = [...(field.options || [])];
  // A current value that is not among the options is kept (and shown as it is).
  if (value != null && !options.some((o) => o.value === value)) options.push({ value, label: String(value) });
  return options;
}

function SelectControl(props) {
  const { field, slot } = props;
  const value = slot.value.value;
  const options = selectOptions(field, value);
  const index = Math.max(0, options.findIndex((o) => o.value === value || (o.value == null && value == null)));
  return html`<select
    ...${commonProps(props)}
    value=${String(index)}
    onChange=${(e) => {
      slot.value.value = options[Number(e.currentTarget.value)]?.value ?? null;
    }}
  >
    ${options.map((o, i) => html`<option value=${String(i)}>${o.label}</option>`)}
  </select>`;
}

function CheckboxControl(props) {
  const { slot } = props;
  return html`<input
    ...${commonProps(props)}
    class="checkbox"
    type="checkbox"
    checked=${!!slot.value.value}
    onChange=${(e) => {
      slot.value.value = e.currentTarget.checked;
    }}
  />`;
}

const trimmed = (raw) => String(raw ?? '').trim();

function lengthCheck(value, field) {
  if (value === '') return null;
  if (field.minlength != null && value.length < field.minlength) return t('form.error.minlength', { min: field.minlength });
  if (field.maxlength != null && value.length > field.maxlength) return t('form.error.maxlength', { max: field.maxlength });
  return null;
}

export const FIELD_TYPES = {
  text: { Control: TextControl, empty: '', read: trimmed, check: lengthCheck },
  email: {
    Control: TextControl,
    empty: '',
    read: trimmed,
    check: (value, field) => (value !== '' && !EMAIL.test(value) ? t('form.error.email') : lengthCheck(value, field)),
  },
  password: { Control: PasswordControl, empty: '', read: (raw) => String(raw ?? ''), check: lengthCheck },
  textarea: { Control: TextareaControl, empty: '', read: (raw) => String(raw ?? ''), check: lengthCheck },
  number: {
    Control: NumberControl,
    empty: '',
    read: (raw) => (raw == null || String(raw).trim() === '' ? null : Number(raw)),
    check: (value, field, slot) => {
      if (slot.el?.validity?.badInput || Number.isNaN(value)) return t('form.error.number');
      if (value == null) return null;
      if (field.step != null && Number.isInteger(Number(field.step)) && !Number.isInteger(value)) return t('form.error.number');
      if (field.min != null && value < field.min) return t('form.error.min', { min: field.min });
      if (field.max != null && value > field.max) return t('form.error.max', { max: field.max });
      return null;
    },
  },
  select: { Control: SelectControl, empty: null, read: (raw) => raw ?? null, check: () => null },
  checkbox: { Control: CheckboxControl, empty: false, read: (raw) => !!raw, check: () => null, layout: 'checkbox' },
  static: { layout: 'static', empty: null, read: (raw) => raw },
  section: { layout: 'section' },
};

/**
 * Adds a field type: registerFieldType('date', { Control, empty: '', read, check }). Control gets
 * { field, slot, id, describedBy, disabled }; it shows slot.value.value and sets slot.value.value
 * on input (and may set slot.el to its focusable element). Empty values are
 * '' / null / [] / false: `required` is checked for you.
 */
export function registerFieldType(name, spec) {
  FIELD_TYPES[name] = { read: (raw) => raw, check: () => null, empty: null, layout: 'field', ...spec };
}

const typeOf = (field) => FIELD_TYPES[field.type || 'text'] || FIELD_TYPES.text;
const isInput = (field) => !['section', 'static'].includes(typeOf(field).layout);
const isEmpty = (value) => value == null || value === '' || value === false || (Array.isArray(value) && value.length === 0);

// ---------------------------------------------------------------------------------------------
// The model.

export function createForm({
  fields,
  values: initial = {},
  submitLabel,
  cancelLabel,
  onSubmit,
  onDone,
  onCancel,
  errorFieldByCode = {},
  validate: validateValues,
  readOnly = false,
  className,
  submitTestId,
}) {
  const slots = new Map(); // name → { field, value: signal(raw), error: signal(message|null), id, initial, el }
  const fieldList = signal([]);
  const summary = signal(null); // { message, items: [[name|null, text]] }
  const busy = signal(false);
  let summaryEl = null;

  function initialRaw(field) {
    const v = field.value !== undefined ? field.value : initial[field.name];
    if ((v === undefined || v === null) && field.type === 'select') {
      // Like the browser: a select without a value shows (and so has) its first option.
      const options = field.options || [];
      return options.length && !options.some((o) => o.value == null) ? options[0].value : null;
    }
    return v === undefined || v === null ? (typeOf(field).empty ?? null) : v;
  }

  function setFields(list) {
    batch(() => {
      for (const field of list) {
        if (!field.name || typeOf(field).layout === 'section') continue;
        const existing = slots.get(field.name);
        if (existing) {
          existing.field = field;
          continue;
        }
        const raw = initialRaw(field);
        slots.set(field.name, { field, value: signal(raw), error: signal(null), id: uid('f'), initial: raw, el: null });
      }
      fieldList.value = list;
    });
  }
  setFields(fields);

  const read = (slot) => typeOf(slot.field).read(slot.value.value, slot.field);

  /** The slots of the fields shown now (a field with visible(values) false is left out). */
  function activeSlots() {
    const all = {};
    for (const [name, slot] of slots) if (isInput(slot.field)) all[name] = read(slot);
    return fieldList.value
      .filter((f) => f.name && isInput(f) && (!f.visible || f.visible(all)))
      .map((f) => slots.get(f.name));
  }

  function values() {
    const out = {};
    for (const slot of activeSlots()) out[slot.field.name] = read(slot);
    return out;
  }

  /** Only the values that differ from the initial ones (for PATCH). */
  function changed() {
    const out = {};
    for (const slot of activeSlots()) {
      const now = read(slot);
      const before = typeOf(slot.field).read(slot.initial, slot.field);
      if (JSON.stringify(now) !== JSON.stringify(before)) out[slot.field.name] = now;
    }
    return out;
  }

  function clearErrors() {
    batch(() => {
      summary.value = null;
      for (const slot of slots.values()) slot.error.value = null;
    });
  }

  function findField(errField) {
    const f = normaliseField(errField);
    if (slots.has(f)) return f;
    for (const name of slots.keys()) if (f.endsWith(`.${name}`)) return name;
    return null;
  }

  function focusFirstInvalid() {
    // After the re-render (the summary is hidden until then).
    setTimeout(() => {
      const slot = activeSlots().find((s) => s.error.value);
      if (slot?.el && !slot.el.disabled) slot.el.focus();
      else summaryEl?.focus();
    }, 0);
  }

  function showErrors(items, message) {
    batch(() => {
      for (const [name, text] of items) if (name) slots.get(name).error.value = text;
      summary.value = { message, items };
    });
    focusFirstInvalid();
  }

  /** Shows an error from onSubmit (ApiError or anything else). */
  function setErrors(err) {
    clearErrors();
    if (err instanceof ApiError && err.errors.length > 0) {
      const items = err.errors.map((e) => {
        const name = findField(e.field);
        const text = fieldErrorText(e);
        return name && isInput(slots.get(name).field) ? [name, text] : [null, e.field ? `${e.field}: ${text}` : text];
      });
      showErrors(items, t('form.summary', { count: items.length }));
    } else if (err instanceof ApiError && errorFieldByCode[err.code] && slots.has(errorFieldByCode[err.code])) {
      showErrors([[errorFieldByCode[err.code], errorText(err)]], t('form.summary', { count: 1 }));
    } else {
      showErrors([], errorText(err));
    }
  }

  function isDisabled(slot) {
    return readOnly || !!slot.field.disabled;
  }

  /** Client-side checks; returns true when the form may be sent. */
  function validate() {
    const items = [];
    const active = activeSlots().filter((s) => !isDisabled(s));
    for (const slot of active) {
      const value = read(slot);
      const message = slot.field.required && isEmpty(value) ? t('form.error.required') : typeOf(slot.field).check(value, slot.field, slot);
      if (message) items.push([slot.field.name, message]);
    }
    const own = validateValues ? validateValues(values()) || {} : {};
    for (const slot of active) {
      const name = slot.field.name;
      // In field order, and only for fields without a built-in problem.
      if (own[name] && !items.some(([n]) => n === name)) items.push([name, own[name]]);
    }
    if (items.length) {
      showErrors(items, t('form.summary', { count: items.length }));
      return false;
    }
    return true;
  }

  async function submit(event) {
    event?.preventDefault();
    if (busy.value || readOnly) return undefined;
    clearErrors();
    if (!validate()) return undefined;
    busy.value = true;
    let result;
    try {
      result = await onSubmit(values(), { changed: changed() });
    } catch (err) {
      if (!isAbort(err)) {
        if (!(err instanceof ApiError)) console.error(err);
        setErrors(err);
      }
      return undefined;
    } finally {
      busy.value = false;
    }
    onDone?.(result);
    return result;
  }

  return {
    fields: fieldList,
    summary,
    busy,
    readOnly,
    className,
    submitLabel,
    cancelLabel,
    onCancel,
    submitTestId,
    values,
    changed,
    setErrors,
    clearErrors,
    submit,
    setFields,
    /** { value: signal, error: signal, field, id, el } of a field. */
    field: (name) => slots.get(name),
    /** A computed of values(), for parts of a screen that follow the form (a preview …). */
    watch: () => computed(values),
    /** Focus the autofocus field or the first enabled input (after the first render). */
    focus() {
      setTimeout(() => {
        const list = activeSlots().filter((s) => !isDisabled(s) && s.el);
        (list.find((s) => s.field.autofocus) || list[0])?.el.focus();
      }, 0);
    },
    /** The element of a field (after render). */
    control: (name) => slots.get(name)?.el,
    _setSummaryEl(el) {
      summaryEl = el;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The view.

function Summary({ form }) {
  const s = form.summary.value;
  return html`<div class="form__summary" role="alert" tabindex="-1" hidden=${!s} ref=${(el) => form._setSummaryEl(el)}>
    ${s?.message && html`<p class="form__summary-title">${s.message}</p>`}
    ${s?.items.length > 0 &&
    html`<ul>
      ${s.items.map(([name, text]) => {
        const slot = name && form.field(name);
        return html`<li>
          ${slot
            ? html`<a href=${`#${slot.id}`} onClick=${(e) => {
                e.preventDefault();
                slot.el?.focus();
              }}>${slot.field.label}: ${text}</a>`
            : text}
        </li>`;
      })}
    </ul>`}
  </div>`;
}

export function Field({ form, field }) {
  const type = typeOf(field);
  if (type.layout === 'section') {
    return html`<div class="form__section">
      <h2 class="form__section-title">${field.label}</h2>
      ${field.help && html`<p class="form__section-help">${field.help}</p>`}
    </div>`;
  }
  const slot = form.field(field.name);
  if (type.layout === 'static') {
    const value = slot ? slot.value.value : field.value;
    return html`<div class="field" data-field=${field.name}>
      <span class="field__label">${field.label}</span>
      <div class="field__static">${value == null || value === '' ? EMPTY : value}</div>
      ${field.help && html`<p class="field__help">${field.help}</p>`}
    </div>`;
  }
  const { id } = slot;
  const helpId = field.help ? `${id}-help` : null;
  const errorId = `${id}-error`;
  const error = slot.error.value;
  const describedBy = [helpId, error && errorId].filter(Boolean).join(' ');
  const control = html`<${type.Control} field=${field} slot=${slot} id=${id} describedBy=${describedBy} disabled=${form.readOnly || !!field.disabled} form=${form} />`;
  const help = field.help && html`<p class="field__help" id=${helpId}>${field.help}</p>`;
  const errorLine = html`<p class="field__error" id=${errorId} hidden=${!error}>${error || ''}</p>`;
  const required = field.required && html`<span class="field__required">${t('form.required')}</span>`;
  if (type.layout === 'checkbox') {
    return html`<div class=${cx('field', 'field--checkbox', error && 'field--invalid')} data-field=${field.name}>
      <label class="field__check" for=${id}>${control}<span>${field.label}</span>${required}</label>
      ${help}${errorLine}
    </div>`;
  }
  return html`<div class=${cx('field', field.width && `field--${field.width}`, error && 'field--invalid')} data-field=${field.name}>
    <label class="field__label" for=${id}>${field.label}${required}</label>
    ${control}${help}${errorLine}
  </div>`;
}

/** The form of a createForm() model. */
export function Form({ form }) {
  const busy = form.busy.value;
  const list = form.fields.value;
  // Only forms with conditional fields follow every value here (the inputs follow their own).
  const current = list.some((f) => f.visible) ? form.values() : null;
  const shown = list.filter((f) => !f.visible || f.visible(current));
  const hasActions = !form.readOnly && (form.submitLabel || form.onCancel);
  return html`<form class=${cx('form', form.className)} novalidate onSubmit=${form.submit} aria-busy=${String(busy)}>
    <${Summary} form=${form} />
    <div class="form__fields">
      ${shown.map((f, i) => html`<${Field} key=${f.name || `section-${i}`} form=${form} field=${f} />`)}
    </div>
    ${hasActions &&
    html`<div class="form__actions">
      ${form.onCancel && html`<button type="button" class="btn btn--secondary" onClick=${() => form.onCancel()}>${form.cancelLabel || t('common.cancel')}</button>`}
      ${form.submitLabel &&
      html`<button type="submit" class=${cx('btn', 'btn--primary', busy && 'is-busy')} disabled=${busy} data-testid=${form.submitTestId}>
        <span class="btn__label">${form.submitLabel}</span>
      </button>`}
    </div>`}
  </form>`;
}
