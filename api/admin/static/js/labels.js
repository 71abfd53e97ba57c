// Display names for values that come from the API as codes (roles, job states, audit actions…).
// Keys are built at run time, so tests/unit/admin/test_i18n_catalogs.py lists the ones the API
// contract defines; unknown codes fall back to the code itself.

import { api } from './api.js';
import { t, tOr } from './i18n.js';

export const ROLE_NAMES = ['admin', 'marketer', 'sales', 'viewer'];

export const roleLabel = (name) => tOr(`role.${name}`, name);
export const jobStateLabel = (state) => tOr(`job.state.${state}`, state);
export const actorTypeLabel = (type) => tOr(`audit.actor.${type}`, type);
export const auditActionLabel = (action) => tOr(`audit.action.${action}`, action);
export const localeLabel = (code) => tOr(`locale.${code}`, code || '');
export const settingLabel = (key) => tOr(`settings.key.${key}`, key);

export const LOCALES = ['ja', 'en'];
export const localeOptions = () => LOCALES.map((c) => ({ value: c, label: localeLabel(c) }));

let rolesCache = null;

/** Role names from GET /api/staff/roles (cached), or the built-in list if that fails. */
export async function loadRoleNames() {
  if (!rolesCache) {
    rolesCache = api
      .get('/api/staff/roles')
      .then((data) => (data.roles || []).map((r) => r.name))
      .catch(() => {
        rolesCache = null;
        return ROLE_NAMES;
      });
  }
  return rolesCache;
}

export async function roleOptions() {
  return (await loadRoleNames()).map((name) => ({ value: name, label: roleLabel(name) }));
}

/** "Yes"/"No" for booleans. */
export const yesNo = (v) => (v ? t('common.yes') : t('common.no'));
