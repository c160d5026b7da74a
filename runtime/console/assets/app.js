// Console shell: login, role-based navigation, the live WebSocket and its event bus.
import { t, setLang, getLang, applyI18n } from './i18n.js';
import { api, session, setAuthLost } from './api.js';
import { h, toast } from './ui.js';
import * as agent from './agent.js';
import * as wallboard from './wallboard.js';
import * as admin from './admin.js';
import * as reports from './reports.js';

const VIEWS = { desk: agent, wall: wallboard, admin, reports };
const BY_ROLE = {
  agent: ['desk', 'reports'],
  supervisor: ['wall', 'desk', 'reports', 'admin'],
  admin: ['admin', 'wall', 'reports', 'desk'],
  'plugin-vendor': ['admin'],
};

/** Live events: views subscribe with bus.on(fn) and get every event object. */
export const bus = {
  subs: new Set(),
  on(f) { this.subs.add(f); return () => this.subs.delete(f); },
  emit(ev) { for (const f of [...this.subs]) { try { f(ev); } catch (e) { console.error(e); } } },
};
window.courtyardEvents = [];

let ws = null, wsTimer = null, current = null, currentName = null;

function setWsStatus(cls, key) {
  const n = document.getElementById('ws-status');
  n.className = `pill ${cls}`; n.dataset.i18n = key; n.textContent = t(key);
}

function connectWs() {
  if (!session.token) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  ws = new WebSocket(`${proto}://${location.host}/console/ws?token=${encodeURIComponent(session.token)}`);
  ws.onopen = () => setWsStatus('ok', 'ws.live');
  ws.onmessage = m => {
    let ev; try { ev = JSON.parse(m.data); } catch { return; }
    window.courtyardEvents.push(ev);
    if (window.courtyardEvents.length > 500) window.courtyardEvents.shift();
    bus.emit(ev);
  };
  ws.onclose = () => {
    ws = null;
    if (!session.token) return;
    setWsStatus('bad', 'ws.down');
    clearTimeout(wsTimer); wsTimer = setTimeout(connectWs, 2000);
  };
}

function show(name) {
  if (current && current.unmount) current.unmount();
  const view = document.getElementById('view');
  view.replaceChildren();
  currentName = name; current = VIEWS[name];
  document.querySelectorAll('#nav button').forEach(b => b.classList.toggle('active', b.dataset.view === name));
  location.hash = name;
  current.mount(view, { bus, me: session.me });
  applyI18n(view);
}

async function enter() {
  let me;
  try { me = await api('GET', '/api/v1/auth/me', undefined, { noAuthRedirect: true }); }
  catch { return showLogin(); }
  session.me = me;
  document.getElementById('login').classList.add('hidden');
  document.getElementById('shell').classList.remove('hidden');
  document.getElementById('whoami').textContent = `${me.username} · ${me.role}`;
  const names = BY_ROLE[me.role] || [];
  document.getElementById('nav').replaceChildren(...names.map(n =>
    h('button', { type: 'button', dataset: { view: n, i18n: `nav.${n}` }, onclick: () => show(n) }, t(`nav.${n}`))));
  connectWs();
  const want = location.hash.slice(1);
  show(names.includes(want) ? want : names[0]);
}

function showLogin() {
  session.token = ''; session.me = null;
  if (ws) { const w = ws; ws = null; w.onclose = null; w.close(); }
  if (current && current.unmount) current.unmount();
  current = null;
  document.getElementById('shell').classList.add('hidden');
  document.getElementById('login').classList.remove('hidden');
  document.querySelector('#login-form input[name=username]').focus();
}

document.getElementById('login-form').addEventListener('submit', async e => {
  e.preventDefault();
  const f = new FormData(e.target);
  const err = document.getElementById('login-error');
  err.textContent = '';
  const btn = e.target.querySelector('button[type=submit]');
  btn.disabled = true;
  try {
    const r = await api('POST', '/api/v1/auth/login', { username: f.get('username'), password: f.get('password') }, { noAuthRedirect: true });
    session.token = r.token;
    e.target.reset();
    await enter();
    toast(`${t('login.submit')} ✓`, 'ok', 2000);
  } catch (ex) {
    err.textContent = ex.status === 401 ? t('login.failed') : ex.message;
  } finally { btn.disabled = false; }
});

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* logged out anyway */ }
  showLogin();
});

document.querySelectorAll('.lang-toggle').forEach(b => b.addEventListener('click', () => {
  setLang(getLang() === 'zh' ? 'en' : 'zh');
  if (currentName) show(currentName);
}));

setAuthLost(() => { toast(t('err.auth'), 'bad'); showLogin(); });
setLang(getLang());
if (session.token) enter(); else showLogin();
