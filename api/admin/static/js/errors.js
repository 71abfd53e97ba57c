// Turning errors into messages for staff.
//
// The API gives every error a stable `code`; the catalogs translate it as "error.<code>".
// When there is no translation we show the server's `detail`, then a message for the status.

import { ApiError } from './api.js';
import { t, tComplete, tOr } from './i18n.js';
import { number } from './format.js';

/**
 * One sentence describing `err` (ApiError or anything else).
 *
 * "error.<code>" may use values of the problem body ({reference} of an internal_error); when they
 * are missing, "error.<code>.plain" is used instead.
 */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t('error.unexpected');
  const byCode = tComplete(`error.${err.code}`, err.problem) || tOr(`error.${err.code}.plain`, '');
  if (byCode) return byCode;
  if (err.status === 403) return t('error.permission_denied');
  if (err.status === 404) return t('error.not_found');
  if (err.detail) return err.detail;
  if (err.status >= 500) return t('error.server', { status: err.status });
  return t('error.status', { status: err.status });
}

/**
 * Message for one entry of ApiError.errors ({field, message, code, params?}).
 *
 * "error.<code>" may use the error's params ({min}, {max} …). When the server sent no params (or
 * not all of them) the catalog's "error.<code>.plain" is used instead, then the server's message.
 */
export function fieldErrorText(e) {
  const params = {};
  if (e.params && typeof e.params === 'object') {
    for (const [k, v] of Object.entries(e.params)) params[k] = typeof v === 'number' ? number(v) : v;
  }
  return tComplete(`error.${e.code}`, params) || tOr(`error.${e.code}.plain`, '') || e.message || t('form.error.invalid');
}
