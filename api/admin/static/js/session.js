// Who is logged in and what they may do.
//
//   import { session, can } from './session.js';
//   if (can('staff:write')) …                 session.staff.name
//   session.passwordPolicy                    the live password rules (see password-rules.js)
//   currentStaff.value                        session.staff as a signal (re-renders what reads it)

import { api, setCsrfToken } from './api.js';
import { addLabels, setTimeZone } from './i18n.js';
import { signal } from './lib.js';

/** The logged-in staff member as a signal (components showing the name follow it). */
export const currentStaff = signal(null);

export const session = {
  /** {id, email, name, role, locale} or null */
  staff: null,
  /** Set of permission strings */
  permissions: new Set(),
  /**
   * The live password rules, from the login / me answer's password_policy:
   * {min_length, require_lowercase, require_uppercase, require_digit, require_symbol}, or null.
   */
  passwordPolicy: null,
};

const listeners = new Set();

/** Calls fn() whenever session.staff changes (login, name saved …); returns an unsubscribe. */
export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed() {
  currentStaff.value = session.staff;
  for (const fn of listeners) fn(session.staff);
}

/** Stores the answer of login/me: {staff, permissions, csrf_token, password_policy}. */
export function setSession(data) {
  session.staff = data.staff;
  session.permissions = new Set(data.permissions || []);
  if (data.password_policy) session.passwordPolicy = data.password_policy;
  if (data.labels) addLabels(data.labels);
  if (data.time_zone) setTimeZone(data.time_zone);
  setCsrfToken(data.csrf_token);
  changed();
}

/** Merges fields into session.staff (after the logged-in staff member's account was edited). */
export function patchStaff(fields) {
  if (!session.staff) return;
  session.staff = { ...session.staff, ...fields };
  changed();
}

export function clearSession() {
  session.staff = null;
  session.permissions = new Set();
  session.passwordPolicy = null;
  setCsrfToken(null);
  changed();
}

/**
 * Saved live settings (items of PATCH /api/settings: [{key: 'password.min_length', value}, …])
 * that the open admin follows at once: the password rules (forms state them) and the site's
 * time zone (every moment on every screen).
 */
export function applySettings(items) {
  for (const item of items || []) if (item?.key === 'site.time_zone') setTimeZone(item.value);
  if (!session.passwordPolicy) return;
  const next = { ...session.passwordPolicy };
  for (const item of items || []) {
    const name = typeof item?.key === 'string' && item.key.startsWith('password.') ? item.key.slice('password.'.length) : null;
    if (name && Object.hasOwn(next, name)) next[name] = item.value;
  }
  session.passwordPolicy = next;
}

export function isLoggedIn() {
  return session.staff != null;
}

/** can('a') — has the permission; can(['a', 'b']) — has all of them. */
export function can(permission) {
  if (!permission) return true;
  const list = Array.isArray(permission) ? permission : [permission];
  return list.every((p) => session.permissions.has(p));
}

/** GET /api/staff/auth/me; returns true when logged in. Never redirects. */
export async function loadSession() {
  try {
    setSession(await api.get('/api/staff/auth/me', null, { on401: false }));
    return true;
  } catch (err) {
    if (err.status === 401) {
      clearSession();
      return false;
    }
    throw err;
  }
}

export async function login(email, password) {
  const data = await api.post('/api/staff/auth/login', { email, password }, { on401: false });
  setSession(data);
  return data;
}

/**
 * PATCH /api/staff/auth/me: the logged-in staff member changes their own name, locale or
 * password ({name, locale, current_password, new_password}, all optional). Returns the same
 * answer as /me and stores it, unless someone else has logged in meanwhile.
 */
export async function updateMe(changes, options = {}) {
  const staffId = session.staff?.id;
  const data = await api.patch('/api/staff/auth/me', changes, options);
  if (data && data.staff && session.staff && session.staff.id === staffId && data.staff.id === staffId) setSession(data);
  return data;
}

/** Saves the language picked in the header to the account, silently (failures are ignored). */
export function saveLocale(code) {
  if (!session.staff || session.staff.locale === code) return;
  updateMe({ locale: code }, { on401: false }).catch(() => {
    /* a preference only: the choice still applies in this browser */
  });
}

export async function logout() {
  try {
    await api.post('/api/staff/auth/logout', undefined, { on401: false });
  } finally {
    clearSession();
  }
}
