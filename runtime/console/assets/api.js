// Thin fetch wrapper: bearer token from the login (the session cookie works as well), errors
// turned into sentences that say what to do, and missing endpoints reported as "not available yet".
import { t } from './i18n.js';

export const session = {
  get token() { return sessionStorage.getItem('courtyard.token') || ''; },
  set token(v) { if (v) sessionStorage.setItem('courtyard.token', v); else sessionStorage.removeItem('courtyard.token'); },
  me: null,
};

export class ApiError extends Error {
  constructor(status, message, notAvailable) { super(message); this.status = status; this.notAvailable = !!notAvailable; }
}

let onAuthLost = () => {};
export function setAuthLost(f) { onAuthLost = f; }

export async function api(method, path, body, opts = {}) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (body instanceof Blob || body instanceof ArrayBuffer) { payload = body; headers['Content-Type'] = 'application/octet-stream'; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  let res;
  try { res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' }); }
  catch (e) { throw new ApiError(0, t('err.network')); }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (res.ok) return data;
  const msg = (data && data.error) || (typeof data === 'string' && data) || res.statusText;
  const ep = `${method} ${path.split('?')[0]}`;
  if (res.status === 401 && !opts.noAuthRedirect) { onAuthLost(); throw new ApiError(401, t('err.auth')); }
  if (res.status === 403) throw new ApiError(403, t('err.forbidden', { msg }));
  // The API's fallback answers 404 "no such route": the endpoint does not exist (yet).
  if ((res.status === 404 && /no such route/.test(msg)) || res.status === 405) throw new ApiError(res.status, t('na.endpoint', { ep }), true);
  if (res.status === 503) throw new ApiError(503, t('na.hook', { ep }) + (msg ? ` — ${msg}` : ''), true);
  throw new ApiError(res.status, t('err.generic', { msg }));
}
