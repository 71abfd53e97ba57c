// "My account": the logged-in staff member changes their own name, language and password
// (PATCH /api/staff/auth/me). Opened by the name button in the header (ui/shell.js, via main.js).
//
//   await openAccountDialog();
//
// Only what changed is sent. The answer (same shape as /me) is stored with setSession(), which
// updates the header name; a new language is then switched to (and remembered in this browser).
// Changing the password needs the current one and logs out every other session of the account.

import { LANGUAGES, getLanguage, setLanguage, t } from '../i18n.js';
import { session, updateMe } from '../session.js';
import { roleLabel } from '../labels.js';
import { passwordRulesText, sentences } from '../password-rules.js';
import { html } from '../lib.js';
import { badge } from '../ui/cells.js';
import { formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';

let isOpen = false;

function checkPasswords(v) {
  const errors = {};
  if (!v.new_password && !v.confirm_password) return errors; // not changing it (ignore an autofilled current password)
  if (!v.current_password) errors.current_password = t('account.error.current_required');
  if (!v.new_password) errors.new_password = t('form.error.required');
  else if (!v.confirm_password) errors.confirm_password = t('account.error.confirm_required');
  else if (v.new_password !== v.confirm_password) errors.confirm_password = t('account.error.mismatch');
  return errors;
}

/** Who this is (not editable here): e-mail address and role. */
function summary(me) {
  const initial = Array.from(String(me.name || me.email || '?').trim())[0]?.toUpperCase() || '?';
  return html`<div class="account-summary">
    <span class="account-summary__avatar" aria-hidden="true">${initial}</span>
    <div class="account-summary__body">
      <p class="account-summary__line"><span class="account-summary__email">${me.email}</span>${badge(roleLabel(me.role), me.role === 'admin' ? 'accent' : 'neutral')}</p>
      <p class="account-summary__help">${t('account.role_help')}</p>
    </div>
  </div>`;
}

/** Opens the dialog; resolves with the /me answer after a save, or null. */
export async function openAccountDialog() {
  const me = session.staff;
  if (!me || isOpen) return null;
  isOpen = true;
  let result;
  try {
    result = await formDialog({
      title: t('account.title'),
      testId: 'account-dialog',
      submitTestId: 'account-save',
      intro: summary(me),
      fields: [
        { name: 'name', type: 'text', label: t('account.field.name'), required: true, maxlength: 200, autocomplete: 'name' },
        { name: 'locale', type: 'select', label: t('account.field.locale'), options: LANGUAGES.map((l) => ({ value: l.code, label: l.label })), help: t('account.locale_help') },
        { type: 'section', label: t('account.password_section'), help: t('account.password_help') },
        { name: 'current_password', type: 'password', label: t('account.field.current_password'), autocomplete: 'current-password' },
        { name: 'new_password', type: 'password', label: t('account.field.new_password'), autocomplete: 'new-password', help: sentences(passwordRulesText(session.passwordPolicy), t('account.new_password_help')) },
        { name: 'confirm_password', type: 'password', label: t('account.field.confirm_password'), autocomplete: 'new-password' },
      ],
      values: { name: me.name, locale: me.locale },
      validate: checkPasswords,
      submitLabel: t('common.save'),
      onSubmit: async (values, { changed }) => {
        const body = {};
        if ('name' in changed) body.name = values.name;
        if ('locale' in changed) body.locale = values.locale;
        if (values.new_password) {
          body.current_password = values.current_password;
          body.new_password = values.new_password;
        }
        if (Object.keys(body).length === 0) return { unchanged: true };
        return { data: await updateMe(body), body };
      },
    });
  } finally {
    isOpen = false;
  }
  if (!result) return null;
  if (result.unchanged) {
    toast(t('common.no_changes'));
    return null;
  }
  const { data, body } = result;
  const locale = data?.staff?.locale;
  // Switch first, so that the message below is in the new language.
  if (body.locale && locale && locale !== getLanguage()) await setLanguage(locale);
  toast(body.new_password ? t('account.saved_password') : t('account.saved'), { type: 'success' });
  return data;
}
