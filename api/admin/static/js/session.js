// Who is logged in and what they may do.
//
//   import { session, can } from './session.js';
//   if (can('staff:write')) …                 session.staff.name

import { api, setCsrfToken } from './api.js';

export const session = {
  /** {id, email, name, role, locale} or null */
  staff: null,
  /** Set of permission strings */
  permissions: new Set(),
};

const listeners = new Set();

/** Calls fn() whenever session.staff changes (login, name saved …); returns an unsubscribe. */
export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed() {
  for (const fn of listeners) fn(session.staff);
}

/** Stores the answer of login/me: {staff, permissions, csrf_token}. */
export function setSession(data) {
  session.staff = data.staff;
  session.permissions = new Set(data.permissions || []);
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
  setCsrfToken(null);
  changed();
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
