// Boot: load the language catalog, ask the API who is logged in, then route.
//
// For every route change: cancel the previous screen (its ctx.signal aborts), check login and
// permission, lazy-load the view module and mount what its default export returns.

import { initI18n, onLanguageChange, preferredLanguage, savedLanguage, t } from './i18n.js';
import { onUnauthorized, isAbort } from './api.js';
import { session, can, clearSession, isLoggedIn, loadSession, logout, onSessionChange, saveLocale } from './session.js';
import { openAccountDialog } from './actions/account.js';
import { routes, sections } from './routes.js';
import { currentLocation, navigate, reload, safeNext, setQuery, startRouter } from './router.js';
import { createShell } from './ui/shell.js';
import { h, mount } from './ui/dom.js';
import { button } from './ui/button.js';
import { emptyState, page } from './ui/page.js';
import { errorText } from './errors.js';

const root = document.getElementById('app');
let shell = null;
let controller = null;
let firstRender = true;

function navSections() {
  return sections
    .map((s) => ({
      label: s.label(),
      items: routes
        .filter((r) => r.nav && r.nav.section === s.id && can(r.permission))
        .map((r) => ({ path: r.path, label: (r.nav.label || r.title)(), icon: r.nav.icon })),
    }))
    .filter((s) => s.items.length > 0);
}

/** The first screen in the sidebar the staff member may open. */
function homePath() {
  for (const s of navSections()) if (s.items.length) return s.items[0].path;
  return null;
}

function ensureShell() {
  if (!shell) {
    shell = createShell({
      sections: navSections(),
      staff: session.staff,
      onLogout: doLogout,
      onAccount: openAccountDialog,
      onLanguage: saveLocale, // the header switch also saves the choice to the account
    });
    mount(root, shell.el);
  }
  return shell.outlet;
}

async function doLogout() {
  try {
    await logout();
  } catch {
    /* the cookie may already be gone; the session is cleared anyway */
  }
  shell = null;
  navigate('/login');
}

function closeDialogs() {
  for (const d of document.querySelectorAll('dialog[open]')) d.dispatchEvent(new Event('cancel', { cancelable: true }));
}

function loginPath(extra = {}) {
  const here = currentLocation();
  const params = new URLSearchParams(extra);
  if (!here.startsWith('/login') && here !== '/') params.set('next', here);
  const qs = params.toString();
  return `/login${qs ? `?${qs}` : ''}`;
}

function messagePage(title, message, iconName) {
  return page({ title, body: emptyState({ icon: iconName, title: message }) });
}

async function handleRoute({ path, query, route, params }) {
  controller?.abort();
  controller = new AbortController();
  const signal = controller.signal;
  closeDialogs();

  if (path === '/') {
    const home = isLoggedIn() ? homePath() : '/login';
    if (home) {
      navigate(home, { replace: true });
      return;
    }
  }
  if (route && route.public && isLoggedIn()) {
    navigate(safeNext(query.next) || homePath() || '/', { replace: true });
    return;
  }
  if ((!route || !route.public) && !isLoggedIn()) {
    navigate(loginPath(), { replace: true });
    return;
  }

  document.title = route ? `${route.title()} · Kizuna` : 'Kizuna';
  const outlet = route && route.public ? root : ensureShell();
  if (shell && !(route && route.public)) shell.setActive(path);
  if (route && route.public) shell = null;

  if (!route) {
    mount(outlet, path === '/' ? messagePage(t('home.title'), t('home.no_screens'), 'info') : messagePage(t('error.not_found_title'), t('error.not_found_page'), 'warning'));
    return;
  }
  if (!can(route.permission)) {
    mount(outlet, messagePage(route.title(), t('error.permission_denied'), 'warning'));
    return;
  }

  const loading = setTimeout(() => mount(outlet, h('div', { class: 'page-loading', role: 'status' }, h('span', { class: 'spinner' }), t('common.loading'))), 150);
  try {
    const mod = await route.view();
    const ctx = { path, params, query, signal, setQuery, navigate, reload };
    const node = await mod.default(ctx);
    clearTimeout(loading);
    if (signal.aborted) return;
    mount(outlet, node);
    // Move focus into the new screen: its autofocus field, else its title (not on first load).
    const target = outlet.querySelector('[autofocus]') || (firstRender ? null : outlet.querySelector('#page-title'));
    if (target) target.focus({ preventScroll: true });
    outlet.scrollTop = 0;
    firstRender = false;
  } catch (err) {
    clearTimeout(loading);
    if (isAbort(err) || signal.aborted) return;
    console.error(err);
    mount(outlet, page({ title: route.title(), body: emptyState({ icon: 'warning', title: errorText(err), action: button({ label: t('common.retry'), onClick: reload }) }) }));
  }
}

function fatal(message, retry) {
  mount(root, h('div', { class: 'boot boot--error', role: 'alert' }, h('p', message), retry && button({ label: 'Retry / 再試行', onClick: retry })));
}

async function boot() {
  // Who is logged in decides the language when this browser has no saved choice (the account's
  // language beats the browser's), so ask first; the catalog is loaded once.
  const who = loadSession().then(
    () => null,
    (err) => err,
  );
  try {
    let accountLocale = null;
    if (!savedLanguage()) {
      await who;
      accountLocale = session.staff?.locale;
    }
    await initI18n(preferredLanguage(accountLocale));
  } catch (err) {
    console.error(err);
    fatal('Kizuna admin could not start. / 管理画面を開始できませんでした。', () => location.reload());
    return;
  }
  const sessionError = await who;
  if (sessionError) {
    fatal(errorText(sessionError), () => location.reload());
    return;
  }
  onSessionChange((staff) => shell?.setStaff(staff));
  onUnauthorized(() => {
    // The session ended (expired, logged out elsewhere, or revoked).
    if (!isLoggedIn()) return;
    clearSession();
    shell = null;
    navigate(loginPath({ reason: 'expired' }), { replace: true });
  });
  onLanguageChange(() => {
    shell = null;
    reload();
  });
  startRouter(routes, handleRoute);
}

boot();
