// Formatting of values for display, in the staff's language and time zone (Asia/Tokyo by default).
// Every function returns a string; missing values become an em dash.

import { getLocale, getTimeZone } from './i18n.js';

export const EMPTY = '—';

function toDate(value) {
  if (value == null || value === '') return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const cache = new Map();
function dtf(options) {
  const key = `${getLocale()}|${getTimeZone()}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    cache.set(key, new Intl.DateTimeFormat(getLocale(), { timeZone: getTimeZone(), ...options }));
  }
  return cache.get(key);
}

/** 2025/01/31 14:05 (ja) · Jan 31, 2025, 2:05 PM (en) */
export function dateTime(value) {
  const d = toDate(value);
  return d ? dtf({ dateStyle: 'medium', timeStyle: 'short' }).format(d) : EMPTY;
}

/** Date and time with seconds and the time zone, for detail views and tooltips. */
export function dateTimeLong(value) {
  const d = toDate(value);
  return d
    ? dtf({
        year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
      }).format(d)
    : EMPTY;
}

/** 2025/01/31 */
export function date(value) {
  const d = toDate(value);
  return d ? dtf({ dateStyle: 'medium' }).format(d) : EMPTY;
}

/** 1,234 */
export function number(value) {
  return value == null || value === '' ? EMPTY : new Intl.NumberFormat(getLocale()).format(value);
}

/** 12.3 KB */
export function bytes(value) {
  if (value == null) return EMPTY;
  const units = ['B', 'KB', 'MB', 'GB'];
  let n = Number(value);
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  const digits = i === 0 || n >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(getLocale(), { maximumFractionDigits: digits }).format(n)} ${units[i]}`;
}

/** True when an ISO datetime is in the past. */
export function isPast(value) {
  const d = toDate(value);
  return d ? d.getTime() < Date.now() : false;
}

/** A list of addresses (an array of strings, or one comma-separated string) as one line. */
export function addressList(value) {
  const list = (Array.isArray(value) ? value : [value]).filter((a) => a != null && String(a).trim() !== '');
  return list.length ? list.map(String).join(', ') : EMPTY;
}
