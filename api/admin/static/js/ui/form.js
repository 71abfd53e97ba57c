// Forms built from a field list.
//
//   const form = createForm({
//     fields: [
//       { name: 'email', type: 'email', label: t('staff.field.email'), required: true, autocomplete: 'off' },
//       { name: 'role', type: 'select', label: t('staff.field.role'), options: [{ value: 'admin', label: … }] },
//       { name: 'is_active', type: 'checkbox', label: t('staff.field.is_active') },
//     ],
//     values: user,                                    // initial values by name
//     submitLabel: t('common.save'),
//     onSubmit: (values) => api.patch(`/api/staff/users/${id}`, values),   // throw ApiError → shown
//     onDone: (result) => toast(t('common.saved'), { type: 'success' }),
//     errorFieldByCode: { email_taken: 'email' },      // errors without a field → which field shows them
//     validate: (v) => (v.new_password !== v.confirm ? { confirm: t('account.error.mismatch') } : null),
//   });
//   form.el   form.values()   form.changed()   form.setErrors(err)   form.clearErrors()   form.focus()
//
// Field types: text, email, password, number, textarea, select, checkbox, static (read-only text),
// section (a heading between groups). Field options: name, type, label, help, required, value,
// placeholder, options [{value, label}] (values keep their type, null allowed), min, max, step,
// minlength, maxlength, rows, autocomplete, inputmode, disabled, readonly, autofocus, width ('sm').
//
// The browser's own validation bubbles are off (they would speak the browser's language); the
// same checks are made here with our messages. `validate(values)` adds checks of your own (fields
// that depend on each other): return { fieldName: message } for the problems, or null; it runs
// after the built-in checks and before onSubmit. Server field errors (ApiError.errors) appear
// under their field and in a summary at the top; other errors appear in the summary.
// `submitTestId` sets data-testid on the submit button (for browser tests).

import { h, mount, uid } from './dom.js';
import { ApiError, isAbort } from '../api.js';
import { errorText, fieldErrorText } from '../errors.js';
import { t } from '../i18n.js';

function normaliseField(name) {
  return String(name || '').replace(/^\$\./, '').replace(/^(body|values)\./, '');
}

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
  const controls = new Map(); // name → { field, input, row, error, optionValues }
  const summary = h('div', { class: 'form__summary', role: 'alert', tabindex: '-1', hidden: true });
  let busyState = false;

  function fieldInitial(field) {
    if (field.value !== undefined) return field.value;
    return initial[field.name];
  }

  function buildInput(field, id, describedBy) {
    const common = {
      id,
      name: field.name,
      class: 'input',
      required: !!field.required,
      disabled: !!field.disabled || readOnly,
      readonly: !!field.readonly,
      autofocus: !!field.autofocus,
      placeholder: field.placeholder,
      autocomplete: field.autocomplete,
      inputmode: field.inputmode,
      'aria-describedby': describedBy || null,
    };
    const value = fieldInitial(field);
    switch (field.type) {
      case 'textarea':
        return h('textarea', { ...common, rows: field.rows || 4, maxlength: field.maxlength, minlength: field.minlength, value: value ?? '' });
      case 'select': {
        const optionValues = new Map();
        const options = [...field.options];
        // A current value that is not among the options is kept (and shown as it is).
        if (value != null && !options.some((o) => o.value === value)) options.push({ value, label: String(value) });
        const select = h(
          'select',
          common,
          options.map((o, i) => {
            const key = `o${i}`;
            optionValues.set(key, o.value);
            return h('option', { value: key, selected: o.value === value || (value == null && o.value == null) }, o.label);
          }),
        );
        select._optionValues = optionValues;
        return select;
      }
      case 'checkbox':
        return h('input', { ...common, class: 'checkbox', type: 'checkbox', checked: !!value });
      case 'number':
        return h('input', { ...common, type: 'number', min: field.min, max: field.max, step: field.step, value: value ?? '' });
      default:
        return h('input', {
          ...common,
          type: field.type || 'text',
          minlength: field.minlength,
          maxlength: field.maxlength,
          spellcheck: field.type === 'email' || field.type === 'password' ? 'false' : null,
          value: value ?? '',
        });
    }
  }

  function passwordToggle(input) {
    const btn = h('button', {
      type: 'button',
      class: 'field__reveal',
      'aria-pressed': 'false',
      onclick: () => {
        const show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        btn.setAttribute('aria-pressed', String(show));
        btn.textContent = show ? t('form.hide_password') : t('form.show_password');
      },
    }, t('form.show_password'));
    return btn;
  }

  function buildField(field) {
    if (field.type === 'section') {
      return h('div', { class: 'form__section' }, h('h2', { class: 'form__section-title' }, field.label), field.help && h('p', { class: 'form__section-help' }, field.help));
    }
    const id = uid('f');
    const helpId = field.help ? `${id}-help` : null;
    const errorId = `${id}-error`;
    if (field.type === 'static') {
      return h('div', { class: 'field' }, h('span', { class: 'field__label' }, field.label), h('div', { class: 'field__static' }, fieldInitial(field) ?? '—'), field.help && h('p', { class: 'field__help' }, field.help));
    }
    const input = buildInput(field, id, [helpId].filter(Boolean).join(' '));
    const error = h('p', { class: 'field__error', id: errorId, hidden: true });
    const help = field.help && h('p', { class: 'field__help', id: helpId }, field.help);
    const required = field.required && h('span', { class: 'field__required' }, t('form.required'));
    let row;
    if (field.type === 'checkbox') {
      row = h('div', { class: 'field field--checkbox' }, h('label', { class: 'field__check', for: id }, input, h('span', field.label), required), help, error);
    } else {
      const control = field.type === 'password' ? h('div', { class: 'field__password' }, input, passwordToggle(input)) : input;
      row = h(
        'div',
        { class: ['field', field.width && `field--${field.width}`] },
        h('label', { class: 'field__label', for: id }, field.label, required),
        control,
        help,
        error,
      );
    }
    row.dataset.field = field.name;
    controls.set(field.name, { field, input, row, error, errorId });
    return row;
  }

  function readValue({ field, input }) {
    switch (field.type) {
      case 'checkbox':
        return input.checked;
      case 'number':
        return input.value === '' ? null : Number(input.value);
      case 'select':
        return input._optionValues.get(input.value);
      case 'text':
      case 'email':
      case undefined:
        return input.value.trim();
      default:
        return input.value;
    }
  }

  function values() {
    const out = {};
    for (const [name, c] of controls) out[name] = readValue(c);
    return out;
  }

  const initialValues = () => {
    const out = {};
    for (const [name, c] of controls) out[name] = fieldInitial(c.field) ?? (c.field.type === 'checkbox' ? false : c.field.type === 'number' || c.field.type === 'select' ? null : '');
    return out;
  };

  /** Only the values that differ from the initial ones (for PATCH). */
  function changed() {
    const before = initialValues();
    const now = values();
    const out = {};
    for (const k of Object.keys(now)) if (JSON.stringify(now[k]) !== JSON.stringify(before[k])) out[k] = now[k];
    return out;
  }

  function showFieldError(name, message) {
    const c = controls.get(name);
    if (!c) return false;
    c.error.textContent = message;
    c.error.hidden = false;
    c.row.classList.add('field--invalid');
    c.input.setAttribute('aria-invalid', 'true');
    const ids = new Set((c.input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
    ids.add(c.errorId);
    c.input.setAttribute('aria-describedby', [...ids].join(' '));
    return true;
  }

  function clearErrors() {
    summary.hidden = true;
    mount(summary);
    for (const c of controls.values()) {
      c.error.hidden = true;
      c.error.textContent = '';
      c.row.classList.remove('field--invalid');
      c.input.removeAttribute('aria-invalid');
      const ids = (c.input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== c.errorId);
      if (ids.length) c.input.setAttribute('aria-describedby', ids.join(' '));
      else c.input.removeAttribute('aria-describedby');
    }
  }

  function findField(errField) {
    const f = normaliseField(errField);
    if (controls.has(f)) return f;
    for (const name of controls.keys()) if (f.endsWith(`.${name}`)) return name;
    return null;
  }

  /** Shows a summary with a message and/or a list of [fieldName|null, message]. */
  function showSummary(message, items = []) {
    mount(
      summary,
      message && h('p', { class: 'form__summary-title' }, message),
      items.length > 0 &&
        h(
          'ul',
          items.map(([name, text]) => {
            const c = name && controls.get(name);
            return h(
              'li',
              c
                ? h('a', { href: `#${c.input.id}`, onclick: (e) => { e.preventDefault(); c.input.focus(); } }, `${c.field.label}: ${text}`)
                : text,
            );
          }),
        ),
    );
    summary.hidden = false;
  }

  function focusFirstInvalid() {
    for (const c of controls.values()) {
      if (c.row.classList.contains('field--invalid')) {
        c.input.focus();
        return;
      }
    }
    summary.focus();
  }

  /** Shows an error from onSubmit (ApiError or anything else). */
  function setErrors(err) {
    clearErrors();
    const items = [];
    if (err instanceof ApiError && err.errors.length > 0) {
      for (const e of err.errors) {
        const name = findField(e.field);
        const text = fieldErrorText(e);
        if (name && showFieldError(name, text)) items.push([name, text]);
        else items.push([null, e.field ? `${e.field}: ${text}` : text]);
      }
      showSummary(t('form.summary', { count: items.length }), items);
    } else if (err instanceof ApiError && errorFieldByCode[err.code] && controls.has(errorFieldByCode[err.code])) {
      const name = errorFieldByCode[err.code];
      const text = errorText(err);
      showFieldError(name, text);
      showSummary(t('form.summary', { count: 1 }), [[name, text]]);
    } else {
      showSummary(errorText(err));
    }
    focusFirstInvalid();
  }

  function validityMessage(c) {
    const v = c.input.validity;
    const f = c.field;
    if (v.valueMissing) return t('form.error.required');
    if (v.typeMismatch && f.type === 'email') return t('form.error.email');
    if (v.badInput || v.stepMismatch) return t('form.error.number');
    if (v.rangeUnderflow) return t('form.error.min', { min: f.min });
    if (v.rangeOverflow) return t('form.error.max', { max: f.max });
    if (v.tooShort) return t('form.error.minlength', { min: f.minlength });
    if (v.tooLong) return t('form.error.maxlength', { max: f.maxlength });
    if (!v.valid) return t('form.error.invalid');
    return null;
  }

  /** Client-side checks; returns true when the form may be sent. */
  function validate() {
    const items = [];
    for (const [name, c] of controls) {
      if (c.input.disabled) continue;
      const message = validityMessage(c);
      if (message) {
        showFieldError(name, message);
        items.push([name, message]);
      }
    }
    const own = validateValues ? validateValues(values()) || {} : {};
    for (const [name, c] of controls) {
      // In field order, and only for fields without a built-in problem.
      if (!own[name] || c.input.disabled || items.some(([n]) => n === name)) continue;
      showFieldError(name, own[name]);
      items.push([name, own[name]]);
    }
    if (items.length) {
      showSummary(t('form.summary', { count: items.length }), items);
      focusFirstInvalid();
      return false;
    }
    return true;
  }

  const submitButton = submitLabel && h('button', { type: 'submit', class: 'btn btn--primary', 'data-testid': submitTestId }, h('span', { class: 'btn__label' }, submitLabel));
  const cancelButton = onCancel && h('button', { type: 'button', class: 'btn btn--secondary', onclick: () => onCancel() }, cancelLabel || t('common.cancel'));

  function setBusy(on) {
    busyState = on;
    el.setAttribute('aria-busy', String(on));
    if (submitButton) {
      submitButton.disabled = on;
      submitButton.classList.toggle('is-busy', on);
    }
  }

  async function submit(event) {
    event?.preventDefault();
    if (busyState || readOnly) return undefined;
    clearErrors();
    if (!validate()) return undefined;
    setBusy(true);
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
      setBusy(false);
    }
    onDone?.(result);
    return result;
  }

  const el = h(
    'form',
    { class: ['form', className], novalidate: true, onsubmit: submit },
    summary,
    h('div', { class: 'form__fields' }, fields.map(buildField)),
    (submitButton || cancelButton) && !readOnly && h('div', { class: 'form__actions' }, cancelButton, submitButton),
  );

  return {
    el,
    values,
    changed,
    setErrors,
    clearErrors,
    submit,
    /** Focus the autofocus field or the first enabled input. */
    focus() {
      const list = [...controls.values()].filter((c) => !c.input.disabled);
      (list.find((c) => c.field.autofocus) || list[0])?.input.focus();
    },
    control(name) {
      return controls.get(name)?.input;
    },
  };
}
