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

/** Stores the answer of login/me: {staff, permissions, csrf_token}. */
export function setSession(data) {
  session.staff = data.staff;
  session.permissions = new Set(data.permissions || []);
  setCsrfToken(data.csrf_token);
}

export function clearSession() {
  session.staff = null;
  session.permissions = new Set();
  setCsrfToken(null);
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

export async function logout() {
  try {
    await api.post('/api/staff/auth/logout', undefined, { on401: false });
  } finally {
    clearSession();
  }
}
