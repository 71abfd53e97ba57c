// The logged-in layout: sidebar navigation, header (staff, language, logout) and the content outlet.
//
//   const shell = createShell({ sections, staff, onLogout, onAccount, onLanguage });
//   mount(appRoot, shell.el);  mount(shell.outlet, page(...));  shell.setActive('/staff');
//   shell.setStaff(staff)     // after the name changed
//
// sections: [{ label, items: [{ path, label, icon }] }] — already filtered by permission.
// The staff member's name/role is a button calling onAccount() (the "My account" dialog);
// onLanguage(code) is called when they pick another language in the header switch.
// Under 760px the sidebar becomes a drawer opened by the menu button in the top bar; the name
// button then lives at the bottom of the drawer.

import { h } from './dom.js';
import { icon } from './icons.js';
import { iconButton } from './button.js';
import { languageSwitch } from './language.js';
import { t, tOr } from '../i18n.js';

export function brand() {
  return h(
    'a',
    { class: 'brand', href: '#/' },
    h('span', { class: 'brand__mark', 'aria-hidden': 'true' }, '絆'),
    h('span', { class: 'brand__name' }, 'Kizuna'),
  );
}

export function createShell({ sections, staff, onLogout, onAccount, onLanguage }) {
  const links = [];
  const navId = 'sidebar-nav';

  const nav = h(
    'nav',
    { class: 'sidebar__nav', id: navId, 'aria-label': t('nav.label') },
    sections.map((section) =>
      h(
        'div',
        { class: 'nav-section' },
        section.label && h('p', { class: 'nav-section__title' }, section.label),
        h(
          'ul',
          { class: 'nav-list' },
          section.items.map((item) => {
            const a = h('a', { class: 'nav-link', href: `#${item.path}`, dataset: { path: item.path } }, icon(item.icon || 'list'), h('span', item.label));
            links.push(a);
            return h('li', a);
          }),
        ),
      ),
    ),
  );

  const names = [];
  const avatars = [];
  const initial = (s) => Array.from(String(s.name || s.email || '?').trim())[0]?.toUpperCase() || '?';
  const whoami = (testId) => {
    const name = h('span', { class: 'whoami__name' }, staff.name || staff.email);
    const avatar = h('span', { class: 'whoami__avatar', 'aria-hidden': 'true' }, initial(staff));
    names.push(name);
    avatars.push(avatar);
    return h(
      'button',
      {
        type: 'button',
        class: 'whoami',
        title: t('account.open'),
        'aria-haspopup': 'dialog',
        'data-testid': testId,
        onclick: () => onAccount?.(),
      },
      avatar,
      h('span', { class: 'whoami__text' }, name, h('span', { class: 'whoami__role' }, tOr(`role.${staff.role}`, staff.role))),
    );
  };

  // On small screens the header has no room for the name: the drawer shows it.
  const sidebar = h('aside', { class: 'sidebar' }, h('div', { class: 'sidebar__brand' }, brand()), nav, h('div', { class: 'sidebar__user' }, whoami('account-button-drawer')));
  const scrim = h('div', { class: 'scrim', onclick: () => setMenu(false) });
  const menuButton = iconButton({
    label: t('nav.menu'),
    icon: 'menu',
    attrs: { class: 'btn btn--ghost btn--icon topbar__menu', 'aria-controls': navId, 'aria-expanded': 'false' },
    onClick: () => setMenu(!document.body.classList.contains('menu-open')),
  });

  const header = h(
    'header',
    { class: 'topbar' },
    menuButton,
    h('div', { class: 'topbar__brand' }, brand()),
    h('div', { class: 'topbar__spacer' }),
    languageSwitch({ compact: true, onChange: onLanguage }),
    whoami('account-button'),
    h('button', { type: 'button', class: 'btn btn--ghost btn--sm logout', 'aria-label': t('auth.logout'), onclick: onLogout }, icon('logout', { size: 16 }), h('span', { class: 'logout__label' }, t('auth.logout'))),
  );

  const outlet = h('main', { class: 'content', id: 'content', tabindex: '-1' });
  const el = h(
    'div',
    { class: 'app' },
    h('a', { class: 'skip-link', href: '#content', onclick: (e) => { e.preventDefault(); outlet.focus(); } }, t('nav.skip')),
    sidebar,
    scrim,
    h('div', { class: 'main' }, header, outlet),
  );

  function setMenu(open) {
    document.body.classList.toggle('menu-open', open);
    menuButton.setAttribute('aria-expanded', String(open));
    if (open) links[0]?.focus();
  }

  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('menu-open')) {
      setMenu(false);
      menuButton.focus();
    }
  });

  return {
    el,
    outlet,
    /** Shows the (changed) name of the logged-in staff member. */
    setStaff(next) {
      if (!next) return;
      for (const n of names) n.textContent = next.name || next.email;
      for (const a of avatars) a.textContent = initial(next);
    },
    /** Highlights the nav item whose path is the longest prefix of `path`; closes the drawer. */
    setActive(path) {
      let best = null;
      for (const a of links) {
        const p = a.dataset.path;
        if ((path === p || path.startsWith(`${p}/`)) && (!best || p.length > best.dataset.path.length)) best = a;
      }
      for (const a of links) {
        if (a === best) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
      setMenu(false);
    },
  };
}
