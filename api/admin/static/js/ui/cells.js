// Small display pieces for table cells and detail lists. Each takes plain values and returns an
// element, so a column's render() can return them directly:
//
//   badge(t('staff.active'), 'success')   tone: neutral | success | warning | danger | info | accent
//   time(row.created_at)                  <time> in the staff's time zone, full value in title
//   twoLines(row.name, row.email)         bold first line, muted second line
//   mono('kz_3f9a')   muted('—')   detailList([[label, value], …])   (null rows are skipped)

import { html, cx } from '../lib.js';
import * as fmt from '../format.js';

export function badge(text, tone = 'neutral') {
  return html`<span class=${cx('badge', `badge--${tone}`)}>${text}</span>`;
}

export function time(value, { dateOnly = false } = {}) {
  if (value == null || value === '') return muted(fmt.EMPTY);
  return html`<time datetime=${String(value)} title=${fmt.dateTimeLong(value)}>${dateOnly ? fmt.date(value) : fmt.dateTime(value)}</time>`;
}

export function twoLines(first, second) {
  return html`<div class="two-lines">
    <span class="two-lines__first">${first ?? fmt.EMPTY}</span>
    ${second != null && second !== '' && html`<span class="two-lines__second">${second}</span>`}
  </div>`;
}

export function mono(text) {
  return html`<code class="mono">${text ?? fmt.EMPTY}</code>`;
}

export function muted(text) {
  return html`<span class="muted">${text ?? fmt.EMPTY}</span>`;
}

/** A definition list from [[label, value], …]; value may be an element or text. */
export function detailList(rows) {
  return html`<dl class="details">
    ${rows.filter(Boolean).map(([label, value]) => [
      html`<dt>${label}</dt>`,
      html`<dd>${value == null || value === '' || value === false ? muted(fmt.EMPTY) : value}</dd>`,
    ])}
  </dl>`;
}
