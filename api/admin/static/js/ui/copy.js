// A read-only value with a copy button (secrets shown once, URLs, ids).
//
//   html`<${CopyField} label=${t('tokens.secret_label', { name })} value=${secret} mono />`

import { html, cx, uid, useConst, useRef, useSignal } from '../lib.js';
import { Button } from './button.js';
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

export function CopyField({ label, value, mono = false }) {
  const id = useConst(() => uid('copy'));
  const input = useRef(null);
  const copied = useSignal(false);
  async function copy() {
    const ok = await copyText(value, input.current);
    toast(ok ? t('common.copied') : t('common.copy_failed'), { type: ok ? 'success' : 'error' });
    if (ok) copied.value = true;
  }
  return html`<div class="field">
    <label class="field__label" for=${id}>${label}</label>
    <div class="copy-field">
      <input id=${id} ref=${input} class=${cx('input', mono && 'input--mono')} type="text" readonly value=${value}
        spellcheck="false" autocomplete="off" onFocus=${(e) => e.currentTarget.select()} />
      <${Button} label=${copied.value ? t('common.copied') : t('common.copy')} icon="copy" onClick=${copy} />
    </div>
  </div>`;
}
