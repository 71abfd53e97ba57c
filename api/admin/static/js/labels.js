// Display names for values that come from the API as codes (roles, job states, audit actions…).
// Keys are built at run time, so tests/unit/admin/test_i18n_catalogs.py lists the ones the API
// contract defines; unknown codes fall back to the code itself.

import { api } from './api.js';
import { getLanguage, t, tOr } from './i18n.js';

export const ROLE_NAMES = ['admin', 'marketer', 'sales', 'viewer'];

export const roleLabel = (name) => tOr(`role.${name}`, name);
export const jobStateLabel = (state) => tOr(`job.state.${state}`, state);
export const actorTypeLabel = (type) => tOr(`audit.actor.${type}`, type);
export const auditActionLabel = (action) => tOr(`audit.action.${action}`, action);
export const localeLabel = (code) => tOr(`locale.${code}`, code || '');
export const settingLabel = (key) => tOr(`settings.key.${key}`, key);

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'uncertain', 'cancelled'];
const JOB_STATE_TONES = { queued: 'neutral', running: 'info', done: 'success', failed: 'danger', uncertain: 'warning', cancelled: 'neutral' };
/** Badge tone of a job state: uncertain = warning, failed = danger, done = success. */
export const jobStateTone = (state) => JOB_STATE_TONES[state] || 'neutral';

// Job kinds come from the API (GET /api/jobs/kinds): each domain declares its kinds with their
// display names, so a new domain needs no change here. Unknown kinds show their code.
let jobKinds = {};
let jobKindsLoading = null;

/** Load the declared job kinds once (later calls reuse them); resolves with their names. */
export function loadJobKinds({ signal } = {}) {
  if (!jobKindsLoading) {
    jobKindsLoading = api
      .get('/api/jobs/kinds', null, { signal })
      .then((kinds) => {
        jobKinds = Object.fromEntries((kinds || []).map((k) => [k.name, k]));
        return Object.keys(jobKinds);
      })
      .catch((err) => {
        jobKindsLoading = null; // try again next time; until then codes are shown
        throw err;
      });
  }
  return jobKindsLoading;
}

export const jobKindNames = () => Object.keys(jobKinds);

/** A job kind's name: from the domains' labels (in /me), else from the kinds' list. */
export function jobKindLabel(kind) {
  const label = jobKinds[kind]?.label || {};
  return tOr(`jobs.kind.${kind}`, label[getLanguage()] || label.en || kind);
}

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
