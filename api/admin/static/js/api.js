// The JSON API client.
//
//   const page = await api.get('/api/staff/users', { q: 'sato', page: 1, per_page: 50 });
//   const user = await api.post('/api/staff/users', { email, name, role, password, locale });
//   await api.del(`/api/staff/tokens/${id}`);
//
// - JSON in and out; cookies are same-origin (the staff cookie is HttpOnly: JS never sees it).
// - Unsafe methods carry X-CSRF-Token (the token comes from login/me; see setCsrfToken).
// - Any non-2xx answer throws ApiError (RFC 9457 problem details parsed into fields).
// - A 401 calls the handler given to onUnauthorized (the app goes to the login page), except for
//   requests made with { on401: false } (login, the first "who am I" call).
// - Pass { signal } to cancel; the router gives each screen a signal that aborts when you leave.
// - upload(path, formData, { signal, onProgress }) sends a large file with upload progress.

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
let unauthorizedHandler = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status (0 when the server could not be reached)
   * @param {object} problem problem-details body: {type, title, status, detail, code, errors}
   */
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || (status ? `http_${status}` : 'network_error');
    this.title = problem.title || '';
    this.detail = problem.detail || '';
    this.type = problem.type || 'about:blank';
    /** [{field, message, code}] — present for 422 validation errors */
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
  }

  /** { fieldName: [{message, code}, ...] } */
  get fieldErrors() {
    const out = {};
    for (const e of this.errors) {
      const key = e.field || '';
      (out[key] ||= []).push(e);
    }
    return out;
  }

  get isNetwork() {
    return this.status === 0;
  }
}

/** Builds "/path?x=1" leaving out null, undefined and '' values. */
export function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v == null || v === '') continue;
    if (Array.isArray(v)) v.forEach((item) => params.append(k, item));
    else params.append(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

async function parseBody(res) {
  if (res.status === 204 || res.status === 205) return null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      return await res.json();
    } catch (err) {
      // Leaving a screen can abort a response while its body is read: that is an abort (the
      // caller ignores it), not an empty answer (the caller would read null).
      if (err?.name === 'AbortError') throw err;
      return null;
    }
  }
  const text = await res.text();
  return text === '' ? null : text;
}

/**
 * request(method, path, { query, body, headers, signal, on401 }) → parsed body (null for 204).
 * `body` is sent as JSON, or as it is when a FormData or Blob (file uploads).
 */
export async function request(method, path, options = {}) {
  const { query, body, headers = {}, signal, on401 = true } = options;
  const m = method.toUpperCase();
  const init = {
    method: m,
    credentials: 'same-origin',
    headers: { Accept: 'application/json, application/problem+json', ...headers },
    signal,
  };
  if (body instanceof FormData || body instanceof Blob) {
    init.body = body; // an upload: the browser sets the multipart boundary or the blob's type
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(m) && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(withQuery(path, query), init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { code: 'network_error', detail: err.message });
  }
  const data = await parseBody(res);
  if (res.ok) return data;

  const problem = data && typeof data === 'object' ? data : {};
  const error = new ApiError(res.status, problem);
  if (res.status === 401 && on401 && unauthorizedHandler) unauthorizedHandler(error);
  throw error;
}

/**
 * upload(path, formData, { signal, onProgress }) → parsed body: a POST of a large file that
 * says how much of it has left (fetch cannot), as onProgress({ loaded, total }). Same CSRF
 * header, ApiError and 401 handling as request().
 */
export function upload(path, form, { signal, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : null });
    const aborted = () => reject(new DOMException('Aborted', 'AbortError'));
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.onabort = aborted;
    xhr.onerror = () => reject(new ApiError(0, { code: 'network_error', detail: 'upload failed' }));
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = xhr.responseText || null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const error = new ApiError(xhr.status, data && typeof data === 'object' ? data : {});
      if (xhr.status === 401 && unauthorizedHandler) unauthorizedHandler(error);
      reject(error);
    };
    xhr.send(form);
  });
}

export const api = {
  get: (path, query, options = {}) => request('GET', path, { ...options, query }),
  post: (path, body, options = {}) => request('POST', path, { ...options, body }),
  put: (path, body, options = {}) => request('PUT', path, { ...options, body }),
  patch: (path, body, options = {}) => request('PATCH', path, { ...options, body }),
  del: (path, options = {}) => request('DELETE', path, options),
};

/** True for the error a fetch throws when its signal is aborted (leaving a screen). */
export function isAbort(err) {
  return err && err.name === 'AbortError';
}
