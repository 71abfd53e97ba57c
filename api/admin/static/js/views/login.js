// Login page (#/login?next=/staff). Shown without the sidebar.

import { h } from '../ui/dom.js';
import { createForm } from '../ui/form.js';
import { notice } from '../ui/page.js';
import { languageSwitch } from '../ui/language.js';
import { getLanguage, isSupported, savedLanguage, setLanguage, t } from '../i18n.js';
import { login } from '../session.js';
import { safeNext } from '../router.js';

export default function loginView(ctx) {
  const form = createForm({
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
  });

  const view = h(
    'div',
    { class: 'login' },
    h(
      'div',
      { class: 'login__card' },
      h(
        'div',
        { class: 'login__brand' },
        h('span', { class: 'brand__mark brand__mark--lg', 'aria-hidden': 'true' }, '絆'),
        h('div', h('h1', { class: 'login__title' }, 'Kizuna'), h('p', { class: 'login__subtitle' }, t('auth.subtitle'))),
      ),
      ctx.query.reason === 'expired' && notice({ tone: 'info', message: t('auth.session_expired') }),
      form.el,
    ),
    h('div', { class: 'login__footer' }, languageSwitch()),
  );
  return view;
}
