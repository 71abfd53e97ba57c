// Small display pieces for table cells and detail lists. All take plain values and return nodes.
//
//   badge(t('staff.active'), 'success')   tone: neutral | success | warning | danger | info | accent
//   time(row.created_at)                  <time> in the staff's time zone, full value in title
//   twoLines(row.name, row.email)         bold first line, muted second line
//   mono('kz_3f9a')   muted('—')   detailList([[label, value], ...])

import { h } from './dom.js';
import * as fmt from '../format.js';

export function badge(text, tone = 'neutral') {
  return h('span', { class: ['badge', `badge--${tone}`] }, text);
}

export function time(value, { dateOnly = false } = {}) {
  if (value == null || value === '') return muted(fmt.EMPTY);
  return h(
    'time',
    { datetime: String(value), title: fmt.dateTimeLong(value) },
    dateOnly ? fmt.date(value) : fmt.dateTime(value),
  );
}

export function twoLines(first, second) {
  return h(
    'div',
    { class: 'two-lines' },
    h('span', { class: 'two-lines__first' }, first ?? fmt.EMPTY),
    second != null && second !== '' && h('span', { class: 'two-lines__second' }, second),
  );
}

export function mono(text) {
  return h('code', { class: 'mono' }, text ?? fmt.EMPTY);
}

export function muted(text) {
  return h('span', { class: 'muted' }, text ?? fmt.EMPTY);
}

/** A definition list from [[label, value], ...]; value may be a node or text. Null rows are skipped. */
export function detailList(rows) {
  return h(
    'dl',
    { class: 'details' },
    rows.filter(Boolean).map(([label, value]) => [
      h('dt', label),
      h('dd', value == null || value === '' ? muted(fmt.EMPTY) : value),
    ]),
  );
}
