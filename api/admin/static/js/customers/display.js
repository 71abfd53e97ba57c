// A record's values for reading, by field type: lists, the detail page, the history timeline.
//
//   displayValue(field, record.values[field.key], { refs, compact })   → an element, a string or null
//
// dates as dates (no time-zone shift), datetimes in the staff's time zone (JST by default),
// decimals exactly as the API sends them (strings, grouped), select choices by their label,
// multi-selects as chips, references as the referenced record's label (a link to it; `refs` from
// loadReferenceLabels), booleans as yes/no, e-mail and URL as links (http(s) and mailto only).
// Everything is a text node: hostile values are shown, never parsed. `compact` (table cells)
// keeps long texts to one line. null: nothing to show (the caller shows an em dash).

import { html } from '../lib.js';
import { getLocale } from '../i18n.js';
import * as fmt from '../format.js';
import { yesNo } from '../labels.js';
import { badge, time } from '../ui/cells.js';
import { labelOf, refKey } from './design.js';
import { t } from '../i18n.js';

const isEmpty = (v) => v == null || v === '' || (Array.isArray(v) && v.length === 0);

/** "2026-12-10" → "2026/12/10" / "Dec 10, 2026" (a calendar date: no time zone applies). */
export function dateText(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (!m) return String(value);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(getLocale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/** "1234567.50" → "1,234,567.50", exactly (no float on the way). */
export function decimalText(value) {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(value).trim());
  if (!m) return String(value);
  let whole;
  try {
    whole = BigInt(m[2]).toLocaleString(getLocale());
  } catch {
    whole = m[2];
  }
  return `${m[1]}${whole}${m[3] != null ? `.${m[3]}` : ''}`;
}

export function choiceLabel(field, value) {
  const choice = (field?.choices || []).map((c) => (typeof c === 'string' ? { value: c, label: {} } : c)).find((c) => c.value === value);
  return choice ? labelOf(choice.label, choice.value) : String(value);
}

/** The choices of a select / multi-select field as {value, label}, retired ones last or left out. */
export function choiceOptions(field, { retired = false } = {}) {
  return (field?.choices || [])
    .map((c) => (typeof c === 'string' ? { value: c, label: {} } : c))
    .filter((c) => retired || !c.retired)
    .map((c) => ({ value: c.value, label: labelOf(c.label, c.value) }));
}

function link(href, text, external) {
  return html`<a href=${href} class="value-link" target=${external ? '_blank' : undefined} rel=${external ? 'noopener noreferrer' : undefined}>${text}</a>`;
}

export function displayValue(field, value, { refs, compact = false } = {}) {
  if (isEmpty(value)) return null;
  switch (field?.type) {
    case 'integer':
      return typeof value === 'number' ? fmt.number(value) : String(value);
    case 'decimal':
      return decimalText(value);
    case 'date':
      return html`<time datetime=${String(value)}>${dateText(value)}</time>`;
    case 'datetime':
      return time(value);
    case 'boolean':
      return badge(yesNo(value), value ? 'success' : 'neutral');
    case 'select':
      return choiceLabel(field, value);
    case 'multi_select':
      return html`<span class="chips">${(Array.isArray(value) ? value : [value]).map((v) => html`<span class="chip" key=${String(v)}>${choiceLabel(field, v)}</span>`)}</span>`;
    case 'reference': {
      const label = refs?.get(refKey(field.references, value));
      const text = label || t('customers.record.number', { id: value });
      return link(`#/customers/${encodeURIComponent(field.references)}/${encodeURIComponent(value)}`, text, false);
    }
    case 'email': // in a list, a row opens the record: a mail link there would be in the way
      return compact ? String(value) : link(`mailto:${value}`, String(value), false);
    case 'url':
      return /^https?:\/\//i.test(String(value)) ? link(String(value), String(value), true) : String(value);
    case 'long_text':
      return compact ? html`<span class="value-clip" title=${String(value)}>${String(value)}</span>` : html`<span class="value-long">${String(value)}</span>`;
    default:
      return Array.isArray(value) || typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
