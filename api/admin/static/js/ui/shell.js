// The logged-in layout: sidebar navigation, header (staff, language, logout) and the content.
//
//   html`<${Shell} sections=${sections} active=${path} onLogout=${…} onAccount=${…} onLanguage=${…}>
//     ${the screen}
//   <//>`
//
// sections: [{ label, items: [{ path, label, icon }] }], already filtered by permission. The
// name and role come from the session's `currentStaff` signal (they follow "My account" at once);
// the name is a button calling onAccount() (the "My account" dialog); onLanguage(code) is called
// when they pick another language in the header switch. Under 760px the sidebar becomes a drawer
// opened by the menu button in the top bar; the name button then lives at the bottom of the drawer.

import { html, useEffect, useRef, useSignal } from '../lib.js';
import { Icon } from './icons.js';
import { LanguageSwitch } from './language.js';
import { currentStaff } from '../session.js';
import { t, tOr } from '../i18n.js';

export function Brand() {
  return html`<a class="brand" href="#/">
    <span class="brand__mark" aria-hidden="true">絆</span>
    <span class="brand__name">Kizuna</span>
  </a>`;
}

const initial = (s) => Array.from(String(s?.name || s?.email || '?').trim())[0]?.toUpperCase() || '?';

function WhoAmI({ testId, onAccount }) {
  const staff = currentStaff.value;
  if (!staff) return null;
  return html`<button type="button" class="whoami" title=${t('account.open')} aria-haspopup="dialog" data-testid=${testId} onClick=${() => onAccount?.()}>
    <span class="whoami__avatar" aria-hidden="true">${initial(staff)}</span>
    <span class="whoami__text">
      <span class="whoami__name">${staff.name || staff.email}</span>
      <span class="whoami__role">${tOr(`role.${staff.role}`, staff.role)}</span>
    </span>
  </button>`;
}

/** The nav item whose path is the longest prefix of `path`. */
function activePath(sections, path) {
  let best = null;
  for (const s of sections) {
    for (const item of s.items) {
      if ((path === item.path || path.startsWith(`${item.path}/`)) && (!best || item.path.length > best.length)) best = item.path;
    }
  }
  return best;
}

export function Shell({ sections, active, onLogout, onAccount, onLanguage, children }) {
  const menuOpen = useSignal(false);
  const menuButton = useRef(null);
  const firstLink = useRef(null);
  const outlet = useRef(null);
  const current = activePath(sections, active || '');

  // The drawer closes when the screen changes.
  useEffect(() => {
    menuOpen.value = false;
  }, [active]);
  useEffect(() => {
    document.body.classList.toggle('menu-open', menuOpen.value);
    if (menuOpen.value) firstLink.current?.focus();
  }, [menuOpen.value]);
  useEffect(() => () => document.body.classList.remove('menu-open'), []);

  function onKeyDown(e) {
    if (e.key === 'Escape' && menuOpen.value) {
      menuOpen.value = false;
      menuButton.current?.focus();
    }
  }

  let first = true;
  return html`<div class="app" onKeyDown=${onKeyDown}>
    <a class="skip-link" href="#content" onClick=${(e) => {
      e.preventDefault();
      outlet.current?.focus();
    }}>${t('nav.skip')}</a>
    <aside class="sidebar">
      <div class="sidebar__brand"><${Brand} /></div>
      <nav class="sidebar__nav" id="sidebar-nav" aria-label=${t('nav.label')}>
        ${sections.map(
          (section) => html`<div class="nav-section">
            ${section.label && html`<p class="nav-section__title">${section.label}</p>`}
            <ul class="nav-list">
              ${section.items.map((item) => {
                const ref = first ? firstLink : undefined;
                first = false;
                return html`<li>
                  <a class="nav-link" href=${`#${item.path}`} data-path=${item.path} ref=${ref}
                    onClick=${() => (menuOpen.value = false)} aria-current=${item.path === current ? 'page' : undefined}>
                    <${Icon} name=${item.icon || 'list'} /><span>${item.label}</span>
                  </a>
                </li>`;
              })}
            </ul>
          </div>`,
        )}
      </nav>
      <div class="sidebar__user"><${WhoAmI} testId="account-button-drawer" onAccount=${() => {
        // The account dialog opens over the page, not over the drawer; closing it brings the
        // focus back to the menu button (the name button is hidden with the drawer).
        menuOpen.value = false;
        menuButton.current?.focus();
        onAccount?.();
      }} /></div>
    </aside>
    <div class="scrim" onClick=${() => (menuOpen.value = false)}></div>
    <div class="main">
      <header class="topbar">
        <button type="button" class="btn btn--ghost btn--icon topbar__menu" aria-label=${t('nav.menu')} title=${t('nav.menu')} aria-controls="sidebar-nav"
          aria-expanded=${String(menuOpen.value)} ref=${menuButton} onClick=${() => (menuOpen.value = !menuOpen.value)}><${Icon} name="menu" /></button>
        <div class="topbar__brand"><${Brand} /></div>
        <div class="topbar__spacer"></div>
        <${LanguageSwitch} compact onChange=${onLanguage} />
        <${WhoAmI} testId="account-button" onAccount=${onAccount} />
        <button type="button" class="btn btn--ghost btn--sm logout" aria-label=${t('auth.logout')} onClick=${onLogout}>
          <${Icon} name="logout" size=${16} /><span class="logout__label">${t('auth.logout')}</span>
        </button>
      </header>
      <main class="content" id="content" tabindex="-1" ref=${outlet}>${children}</main>
    </div>
  </div>`;
}
