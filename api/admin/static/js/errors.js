// Turning errors into messages for staff.
//
// The API gives every error a stable `code`; the catalogs translate it as "error.<code>".
// When there is no translation we show the server's `detail`, then a message for the status.

import { ApiError } from './api.js';
import { t, tOr } from './i18n.js';

/** One sentence describing `err` (ApiError or anything else). */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t('error.unexpected');
  const byCode = tOr(`error.${err.code}`, '');
  if (byCode) return byCode;
  if (err.status === 403) return t('error.permission_denied');
  if (err.status === 404) return t('error.not_found');
  if (err.detail) return err.detail;
  if (err.status >= 500) return t('error.server', { status: err.status });
  return t('error.status', { status: err.status });
}

/** Message for one entry of ApiError.errors ({field, message, code}). */
export function fieldErrorText(e) {
  return tOr(`error.${e.code}`, '', e.params) || e.message || t('form.error.invalid');
}
