// Hash routing: #/path/with/:params?query=string
//
// Routes are declared in routes.js. The router only parses the hash, matches a route and calls
// the handler given to startRouter(); main.js decides what to render.

let routeList = [];
let handler = null;

/** Splits location.hash into { path: '/outbox/42', query: {page: '2'} }. */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [pathPart, qs = ''] = raw.split('?');
  const path = `/${pathPart.replace(/^\/+|\/+$/g, '')}`;
  return { path, query: Object.fromEntries(new URLSearchParams(qs)) };
}

function compile(pattern) {
  const names = [];
  const source = pattern
    .replace(/\/+$/, '')
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        names.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source || '/'}$`), names };
}

/** Returns { route, params } for `path`, or null. */
export function matchRoute(path) {
  for (const route of routeList) {
    route._compiled ||= compile(route.path);
    const m = route._compiled.regex.exec(path);
    if (m) {
      const params = {};
      route._compiled.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
      return { route, params };
    }
  }
  return null;
}

/** "#/audit?page=2" from ('/audit', {page: 2}); empty values are left out. */
export function href(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v != null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

function run() {
  const { path, query } = parseHash();
  if (handler) handler({ path, query, ...(matchRoute(path) || { route: null, params: {} }) });
}

/** Goes to `path` (may include ?query). Re-runs the route even when the hash does not change. */
export function navigate(path, { replace = false } = {}) {
  const target = `#${path.startsWith('/') ? path : `/${path}`}`;
  if (target === location.hash) {
    run();
  } else if (replace) {
    history.replaceState(history.state, '', target);
    run();
  } else {
    location.hash = target;
  }
}

/** Re-renders the current route. */
export function reload() {
  run();
}

/**
 * Merges `patch` into the current query string without re-rendering (for filters and paging,
 * so that reload and the back button keep them). Empty values are removed.
 */
export function setQuery(patch) {
  const { path, query } = parseHash();
  const next = { ...query, ...patch };
  history.replaceState(history.state, '', href(path, next));
}

/** `next` when it is an in-app path ("/staff?page=2"), never "//host", a URL or the login page. */
export function safeNext(next) {
  return typeof next === 'string' && /^\/(?!\/)/.test(next) && !next.startsWith('/login') ? next : null;
}

/** The current path and query as a string for ?next= ("/audit?page=2"). */
export function currentLocation() {
  return location.hash.replace(/^#/, '') || '/';
}

export function startRouter(routes, onRoute) {
  routeList = routes;
  handler = onRoute;
  window.addEventListener('hashchange', run);
  run();
}
