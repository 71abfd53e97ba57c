// The password rules in words, for help text under every "new password" field.
//
//   passwordRulesText(session.passwordPolicy)                  → "At least 12 characters, including
//       a lowercase letter and a digit. Common passwords and your email address or name are not allowed."
//   passwordRulesText(policy, { who: 'staff' })                → "… the staff member's email address or name …"
//   sentences(passwordRulesText(policy), t('x.help'))          → the rules, then the field's own help
//
// `policy` is the server's live rules ({min_length, require_lowercase, require_uppercase,
// require_digit, require_symbol}; /api/staff/auth/me and the login answer carry it as
// password_policy, session.js keeps it as session.passwordPolicy). Only the required parts are
// named. The last sentence mirrors the server's other checks (api/security/passwords.py): common
// passwords, and the account's own email address or name. Without a policy only that sentence is
// given. Member-facing forms can reuse this (who: 'self' speaks to the person choosing it).

import { t } from './i18n.js';

/** The character classes a policy can require, in the order they are named. */
const REQUIREMENTS = [
  ['require_lowercase', () => t('password_rules.lowercase')],
  ['require_uppercase', () => t('password_rules.uppercase')],
  ['require_digit', () => t('password_rules.digit')],
  ['require_symbol', () => t('password_rules.symbol')],
];

/** ["a", "b", "c"] → "a, b and c" / "a・b・c". */
function list(items) {
  if (items.length <= 1) return items.join('');
  return t('password_rules.list_last', { rest: items.slice(0, -1).join(t('password_rules.list_sep')), last: items[items.length - 1] });
}

/**
 * The rules as one or two sentences. `who`: 'self' (the person typing it chooses their own
 * password) or 'staff' (an administrator sets another staff member's password).
 */
export function passwordRulesText(policy, { who = 'self' } = {}) {
  const personal = who === 'staff' ? t('password_rules.personal_staff') : t('password_rules.personal_self');
  const min = Number(policy?.min_length);
  if (!policy || !Number.isFinite(min) || min < 1) return personal;
  const required = REQUIREMENTS.filter(([flag]) => policy[flag]).map(([, label]) => label());
  const length = required.length
    ? t('password_rules.min_length_including', { min, required: list(required) })
    : t('password_rules.min_length', { min });
  return sentences(length, personal);
}

/** Joins whole sentences the way the language does (no space in Japanese); skips empty parts. */
export function sentences(...parts) {
  const present = parts.filter(Boolean);
  return present.length ? present.reduce((first, second) => t('common.sentences', { first, second })) : '';
}
