// The 日本語 / English switch (header and login page). Language names are shown in their own
// language. Switching reloads the catalog; main.js re-renders the app. `onChange(code)` is
// called first when the staff member picks a language other than the current one (the header
// uses it to save the choice to their account).

import { html, cx } from '../lib.js';
import { LANGUAGES, getLanguage, setLanguage, t } from '../i18n.js';

export function LanguageSwitch({ compact = false, onChange }) {
  const current = getLanguage();
  return html`<div class=${cx('lang-switch', compact && 'lang-switch--compact')} role="group" aria-label=${t('common.language')}>
    ${LANGUAGES.map(
      (l) => html`<button type="button" class="lang-switch__option" lang=${l.code} aria-pressed=${String(l.code === current)}
        onClick=${() => {
          if (l.code !== getLanguage()) onChange?.(l.code);
          setLanguage(l.code);
        }}>${l.label}</button>`,
    )}
  </div>`;
}
