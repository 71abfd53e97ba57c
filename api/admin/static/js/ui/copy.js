// A read-only value with a copy button (secrets shown once, URLs, ids).
//
//   copyField({ label: t('tokens.secret_label'), value: secret, mono: true })

import { h, uid } from './dom.js';
import { button } from './button.js';
import { toast } from './toast.js';
import { t } from '../i18n.js';

export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (not a secure context, or refused): select and use execCommand.
    if (!input) return false;
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

export function copyField({ label, value, mono = false }) {
  const id = uid('copy');
  const input = h('input', {
    id,
    class: ['input', mono && 'input--mono'],
    type: 'text',
    readonly: true,
    value,
    spellcheck: 'false',
    autocomplete: 'off',
    onfocus: (e) => e.target.select(),
  });
  const copy = button({
    label: t('common.copy'),
    icon: 'copy',
    onClick: async () => {
      const ok = await copyText(value, input);
      toast(ok ? t('common.copied') : t('common.copy_failed'), { type: ok ? 'success' : 'error' });
      if (ok) copy.querySelector('.btn__label').textContent = t('common.copied');
    },
  });
  return h('div', { class: 'field' }, h('label', { class: 'field__label', for: id }, label), h('div', { class: 'copy-field' }, input, copy));
}
