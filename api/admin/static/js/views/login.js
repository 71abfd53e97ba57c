// Login page (#/login?next=/staff). Shown without the sidebar.

import { html, useConst } from '../lib.js';
import { createForm, Form } from '../ui/form.js';
import { Notice } from '../ui/page.js';
import { LanguageSwitch } from '../ui/language.js';
import { getLanguage, isSupported, savedLanguage, setLanguage, t } from '../i18n.js';
import { login } from '../session.js';
import { safeNext } from '../router.js';

export default function LoginView({ ctx }) {
  const form = useConst(() =>
    createForm({
      fields: [
        { name: 'email', type: 'email', label: t('auth.email'), required: true, autocomplete: 'username', autofocus: true, inputmode: 'email' },
        { name: 'password', type: 'password', label: t('auth.password'), required: true, autocomplete: 'current-password' },
      ],
      submitLabel: t('auth.login'),
      onSubmit: (values) => login(values.email, values.password),
      onDone: (data) => {
        const next = () => ctx.navigate(safeNext(ctx.query.next) || '/', { replace: true });
        // No language chosen in this browser: follow the account's. Switching re-renders this
        // route, which (now logged in) goes on to ?next= by itself.
        const locale = data?.staff?.locale;
        if (!savedLanguage() && isSupported(locale) && locale !== getLanguage()) {
          setLanguage(locale, { remember: false }).catch(next);
          return;
        }
        next();
      },
      className: 'form--login',
    }),
  );

  return html`<div class="login">
    <div class="login__card">
      <div class="login__brand">
        <span class="brand__mark brand__mark--lg" aria-hidden="true">絆</span>
        <div>
          <h1 class="login__title">Kizuna</h1>
          <p class="login__subtitle">${t('auth.subtitle')}</p>
        </div>
      </div>
      ${ctx.query.reason === 'expired' && html`<${Notice} tone="info" message=${t('auth.session_expired')} />`}
      <${Form} form=${form} />
    </div>
    <div class="login__footer"><${LanguageSwitch} /></div>
  </div>`;
}
