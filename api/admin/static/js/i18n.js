// UI strings. Catalogs are flat JSON files in ../i18n/<lang>.json ({"nav.staff": "スタッフ"}).
//
//   t('staff.created', { name: 'Sato' })   → "Sato を追加しました"
//
// Always call t() with a literal key where you can: tests/unit/admin/test_i18n_catalogs.py
// finds every t('...') and data-i18n="..." and checks both catalogs have it. For keys built at
// run time (role names, setting labels, error codes) use tOr(key, fallback).

export const LANGUAGES = [
  { code: 'ja', label: '日本語' },
  { code: 'en', label: 'English' },
];
const SUPPORTED = LANGUAGES.map((l) => l.code);
const STORAGE_KEY = 'kizuna.admin.lang';
export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';
let timeZone = DEFAULT_TIME_ZONE;

let lang = 'ja';
let catalog = {};
const listeners = new Set();
const warned = new Set();

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
}

/** True for a language the panel has a catalog for ('ja', 'en'). */
export function isSupported(code) {
  return SUPPORTED.includes(code);
}

/** The language chosen in this browser (the switcher, the account dialog), or null. */
export function savedLanguage() {
  const saved = stored(STORAGE_KEY);
  return saved && SUPPORTED.includes(saved) ? saved : null;
}

/**
 * localStorage choice → `accountLocale` (the staff member's saved language, when known) →
 * browser languages → Japanese.
 */
export function preferredLanguage(accountLocale = null) {
  const saved = savedLanguage();
  if (saved) return saved;
  if (isSupported(accountLocale)) return accountLocale;
  for (const tag of navigator.languages || [navigator.language]) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (SUPPORTED.includes(base)) return base;
  }
  return 'ja';
}

async function loadCatalog(code) {
  const url = new URL(`../i18n/${code}.json`, import.meta.url);
  const res = await fetch(url, { credentials: 'same-origin', cache: 'no-cache' });
  if (!res.ok) throw new Error(`Cannot load ${url}: ${res.status}`);
  return res.json();
}

/** Loads the catalog for `code` (or the preferred language) and sets <html lang>. */
export async function initI18n(code = preferredLanguage()) {
  catalog = await loadCatalog(code);
  lang = code;
  document.documentElement.lang = code;
  translateDom(document);
}

/**
 * Switches language and tells listeners (who re-render). `remember: false` does not store the
 * choice in this browser (used when following the account's language rather than a click).
 */
export async function setLanguage(code, { remember = true } = {}) {
  if (!SUPPORTED.includes(code)) return;
  // Picking the language already shown is a choice too: remember it, so that logging in does
  // not switch to the account's language.
  if (remember) store(STORAGE_KEY, code);
  if (code === lang) return;
  await initI18n(code);
  for (const fn of listeners) fn(code);
}

/** Subscribes to language changes; returns an unsubscribe function. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function getLanguage() {
  return lang;
}

/** BCP 47 locale for Intl (ja → ja-JP). */
export function getLocale() {
  return lang === 'ja' ? 'ja-JP' : 'en-US';
}

/** The site's time zone (the live setting site.time_zone): every moment is shown in it. */
export function getTimeZone() {
  return timeZone;
}

export function setTimeZone(tz) {
  if (typeof tz === 'string' && tz) timeZone = tz;
}

// Display names the installed domains declare for their codes (from /me: permissions, job
// kinds, audit actions…), {key: {ja, en}}. The catalog wins where both have a key.
let domainLabels = {};

/** Adds the domains' labels (the `labels` of GET /api/staff/auth/me). */
export function addLabels(labels) {
  domainLabels = labels && typeof labels === 'object' ? labels : {};
}

function text(key) {
  if (Object.prototype.hasOwnProperty.call(catalog, key)) return catalog[key];
  const label = Object.prototype.hasOwnProperty.call(domainLabels, key) ? domainLabels[key] : null;
  return label ? label[lang] || label.en || null : null;
}

/** True when the current catalog, or a domain's labels, has `key`. */
export function has(key) {
  return text(key) != null;
}

function interpolate(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) =>
    Object.prototype.hasOwnProperty.call(params, name) && params[name] != null
      ? String(params[name])
      : m,
  );
}

/** Translates `key`, replacing {name} placeholders from `params`. Missing keys show the key. */
export function t(key, params) {
  if (!has(key)) {
    if (!warned.has(key)) {
      warned.add(key);
      console.warn(`i18n: missing key "${key}" (${lang})`);
    }
    return key;
  }
  return interpolate(text(key), params);
}

/**
 * Like tOr() but returns null unless the key exists and `params` fills every {placeholder}
 * (for messages whose values may be missing, such as server field errors).
 */
export function tComplete(key, params) {
  if (!has(key)) return null;
  const message = text(key);
  const p = params || {};
  for (const [, name] of message.matchAll(/\{(\w+)\}/g)) {
    if (!Object.prototype.hasOwnProperty.call(p, name) || p[name] == null) return null;
  }
  return interpolate(message, p);
}

/** Like t() but returns `fallback` (default: the key) when the key is not in the catalog. */
export function tOr(key, fallback = key, params) {
  return has(key) ? interpolate(text(key), params) : fallback;
}

/** Fills elements marked data-i18n="key" (static HTML such as index.html). */
export function translateDom(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const key = el.getAttribute('data-i18n');
    if (has(key)) el.textContent = t(key);
  }
}
