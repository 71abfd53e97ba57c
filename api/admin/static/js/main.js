// Boot: load the language catalog, ask the API who is logged in, then route.
//
// The whole panel is one Preact tree rendered into #app: <App> shows the current screen (a
// signal set by handleRoute) inside the <Shell> (or alone for the login page). For every route
// change: cancel the previous screen (its ctx.signal aborts and its dialogs close), check login
// and permission, lazy-load the view module, await its optional `load(ctx)`, then mount its
// default export as <View ctx data />. A view that throws (in load or while rendering) gets the
// standard error page with a retry button.

import { html, render, signal, Component, useLayoutEffect } from './lib.js';
import { initI18n, onLanguageChange, preferredLanguage, savedLanguage, t } from './i18n.js';
import { onUnauthorized, isAbort } from './api.js';
import { session, can, clearSession, isLoggedIn, loadSession, logout, saveLocale } from './session.js';
import { openAccountDialog } from './actions/account.js';
import { routes, sections } from './routes.js';
import { currentLocation, navigate, reload, safeNext, setQuery, startRouter } from './router.js';
import { Shell } from './ui/shell.js';
import { Button } from './ui/button.js';
import { EmptyState, Page } from './ui/page.js';
import { errorText } from './errors.js';

const root = document.getElementById('app');
/** What is on screen: { id, path, public, kind: 'loading'|'message'|'error'|'view', … }. */
const screen = signal(null);
let controller = null;
let firstRender = true;
let screenCount = 0;

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

async function doLogout() {
  try {
    await logout();
  } catch {
    /* the cookie may already be gone; the session is cleared anyway */
  }
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

function ErrorPage({ title, message }) {
  return html`<${Page} title=${title}>
    <${EmptyState} icon="warning" title=${message} action=${html`<${Button} label=${t('common.retry')} onClick=${reload} />`} />
  <//>`;
}

/** Turns an error thrown while a view renders into the error page. */
class Boundary extends Component {
  componentDidCatch(err) {
    console.error(err);
    this.setState({ err });
  }

  render() {
    return this.state.err ? html`<${ErrorPage} title=${this.props.title} message=${errorText(this.state.err)} />` : this.props.children;
  }
}

function Screen({ s }) {
  useLayoutEffect(() => {
    if (s.kind === 'loading') return;
    // Move focus into the new screen: its autofocus field, else its title (not on first load).
    const outlet = document.getElementById('content') || root;
    const target = outlet.querySelector('[autofocus]') || (firstRender ? null : outlet.querySelector('#page-title'));
    target?.focus({ preventScroll: true });
    outlet.scrollTop = 0;
    firstRender = false;
  }, []);
  switch (s.kind) {
    case 'loading':
      return html`<div class="page-loading" role="status"><span class="spinner"></span>${t('common.loading')}</div>`;
    case 'message':
      return html`<${Page} title=${s.title}><${EmptyState} icon=${s.icon} title=${s.message} /><//>`;
    case 'error':
      return html`<${ErrorPage} title=${s.title} message=${s.message} />`;
    default:
      return html`<${Boundary} title=${s.title}><${s.View} ctx=${s.ctx} data=${s.data} /><//>`;
  }
}

function App() {
  const s = screen.value;
  if (!s) return null;
  const content = html`<${Screen} key=${s.id} s=${s} />`;
  if (s.public) return content;
  return html`<${Shell} sections=${navSections()} active=${s.path} onLogout=${doLogout} onAccount=${openAccountDialog} onLanguage=${saveLocale}>
    ${content}
  <//>`;
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
  const show = (fields) => {
    screenCount += 1;
    screen.value = { id: screenCount, path, public: !!(route && route.public), title: route ? route.title() : '', ...fields };
  };

  if (!route) {
    show(path === '/' ? { kind: 'message', title: t('home.title'), message: t('home.no_screens'), icon: 'info' } : { kind: 'message', title: t('error.not_found_title'), message: t('error.not_found_page'), icon: 'warning' });
    return;
  }
  if (!can(route.permission)) {
    show({ kind: 'message', message: t('error.permission_denied'), icon: 'warning' });
    return;
  }

  // The loading screen of a slow route; never once another route took over (a route left
  // while its module was still loading would otherwise cover the next screen for good).
  const loading = setTimeout(() => show({ kind: 'loading' }), 150);
  signal.addEventListener('abort', () => clearTimeout(loading), { once: true });
  try {
    const mod = await route.view();
    const ctx = { path, params, query, signal, setQuery, navigate, reload };
    const data = mod.load ? await mod.load(ctx) : undefined;
    clearTimeout(loading);
    if (signal.aborted) return;
    show({ kind: 'view', View: mod.default, ctx, data });
  } catch (err) {
    clearTimeout(loading);
    if (isAbort(err) || signal.aborted) return;
    console.error(err);
    show({ kind: 'error', message: errorText(err) });
  }
}

function fatal(message, retry) {
  render(
    html`<div class="boot boot--error" role="alert">
      <p>${message}</p>
      ${retry && html`<${Button} label="Retry / 再試行" onClick=${retry} />`}
    </div>`,
    root,
  );
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
    root.replaceChildren();
    fatal('Kizuna admin could not start. / 管理画面を開始できませんでした。', () => location.reload());
    return;
  }
  const sessionError = await who;
  root.replaceChildren(); // the boot spinner of index.html: Preact owns #app from here
  if (sessionError) {
    fatal(errorText(sessionError), () => location.reload());
    return;
  }
  onUnauthorized(() => {
    // The session ended (expired, logged out elsewhere, or revoked).
    if (!isLoggedIn()) return;
    clearSession();
    navigate(loginPath({ reason: 'expired' }), { replace: true });
  });
  onLanguageChange(() => reload());
  render(html`<${App} />`, root);
  startRouter(routes, handleRoute);
}

boot();
