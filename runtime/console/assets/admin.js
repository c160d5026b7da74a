// Admin: plugins and flow versions (activate, roll back, upload a signed package), route table,
// queues, agents, users, working hours and holidays, announcements, blacklist, SIP trunks.
import { t } from './i18n.js';
import { api } from './api.js';
import { h, act, na, table, toast } from './ui.js';

const items = r => Array.isArray(r) ? r : (r && (r.items || r.flows || r.routes || r.trunks)) || [];
const TABS = ['plugins', 'routes', 'queues', 'agents', 'users', 'hours', 'ann', 'blacklist', 'trunks'];
let body, tab = 'plugins';

export function mount(el, ctx) {
  const tabs = h('div', { class: 'tabs', id: 'admin-tabs' }, TABS.map(k => h('button', { type: 'button', dataset: { tab: k }, onclick: () => show(k) }, t(`admin.${k}`))));
  body = h('div', { id: 'admin-body' });
  el.append(tabs, body);
  show(ctx.me.role === 'plugin-vendor' ? 'plugins' : tab);
}
export function unmount() {}

function show(k) {
  tab = k;
  document.querySelectorAll('#admin-tabs button').forEach(b => b.classList.toggle('active', b.dataset.tab === k));
  body.replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  ({ plugins, routes: simple('/api/v1/routes', ['number', 'flow', 'estate', 'plugin_version']), trunks: simple('/api/v1/trunks', ['name', 'host', 'state', 'rtt_ms', 'last_response_code', 'last_checked', 'active_calls', 'max_concurrent', 'calls_per_second']),
    queues: crud('/api/v1/queues', ['id', 'name', 'strategy', 'skills', 'max_wait_s', 'overflow'], { id: 'repairs', name: '报修', strategy: 'longest-idle', skills: ['报修'], max_wait_s: 300, overflow: null }),
    agents: crud('/api/v1/agents', ['id', 'name', 'skills', 'queues'], { id: '8006', name: '坐席8006', skills: [['报修', 5]], queues: ['repairs'] }),
    users: crud('/api/v1/users', ['username', 'display_name', 'role', 'agent_id', 'disabled'], { username: '8006', display_name: '坐席8006', role: 'agent', password: 'change-me-8006', agent_id: '8006' }, u => u.username),
    ann: crud('/api/v1/announcements', ['id', 'estate_id', 'text', 'start', 'end'], { id: 'an-1', estate_id: null, text: '本周六上午停水', start: '2026-11-28', end: '2026-11-28' }),
    blacklist: crud('/api/v1/lists/blacklist', ['number', 'reason', 'created_at'], { number: '17000000000', reason: '骚扰' }, e => e.number),
    hours }[k])();
}

async function load(path) { try { return { data: await api('GET', path) }; } catch (e) { return { error: e }; } }

async function plugins() {
  const { data, error } = await load('/api/v1/flows');
  const upload = uploadForm();
  if (error) return body.replaceChildren(na(error), upload);
  const flows = items(data);
  body.replaceChildren(...flows.map(f => h('section', { class: 'card', dataset: { flow: f.name } },
    h('div', { class: 'row' }, h('h2', {}, f.name), h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'danger', dataset: { action: 'rollback' }, onclick: e => rollback(e.target, f.name) }, t('admin.rollback'))),
    table([{ label: t('admin.version'), get: v => h('code', { title: v.key }, String(v.key).slice(0, 16)) },
      { label: 'plugin', get: v => `${v.plugin_name}@${v.plugin_version}` },
      { label: t('admin.active'), get: v => v.active ? '✔' : (v.tripped ? '⚠ tripped' : '') },
      // What the version may use, and what it imports without a grant (linked as traps).
      { label: t('admin.grants'), get: v => h('span', { class: 'grants' }, (v.grants || []).filter(g => g !== 'config').join(' '),
        ...(v.trapped_imports || []).length ? [' ', h('s', { class: 'muted', title: t('admin.trapped') }, v.trapped_imports.join(' '))] : []) },
      { label: t('admin.calls'), num: true, get: v => v.counts?.calls ?? 0 }, { label: t('admin.completed'), num: true, get: v => v.counts?.completed ?? 0 },
      { label: t('admin.hangups'), num: true, get: v => v.counts?.caller_hangups ?? 0 }, { label: t('admin.failures'), num: true, get: v => v.counts?.failures ?? 0 },
      { label: '', get: v => v.active ? '' : h('button', { type: 'button', dataset: { action: 'activate' }, onclick: e => activate(e.target, f.name, v.key) }, t('admin.activate')) }],
      f.versions))), upload);
}
async function rollback(btn, flow) {
  if (!confirm(t('admin.confirm.rollback', { flow }))) return;
  const r = await act(btn, () => api('POST', `/api/v1/flows/${encodeURIComponent(flow)}/rollback`), r => t('admin.rolledback', { flow, v: String(r.active).slice(0, 16) }));
  if (r) show('plugins');
}
async function activate(btn, flow, v) {
  const r = await act(btn, () => api('POST', `/api/v1/flows/${encodeURIComponent(flow)}/activate`, { version: v }), t('admin.activated', { flow, v: String(v).slice(0, 16) }));
  if (r) show('plugins');
}
function uploadForm() {
  const file = h('input', { type: 'file', name: 'pkg', accept: '.cyp,.cypkg,.tar,.zip,application/octet-stream' });
  const flow = h('input', { name: 'flow', placeholder: 'ivr-main', size: 10 });
  const grants = h('input', { name: 'grants', placeholder: 'call,log,directory.read', size: 24 });
  const actv = h('input', { type: 'checkbox', name: 'activate' });
  const info = h('div', { id: 'pkg-inspect' });
  // Before granting anything: what the package is, who signed it, what it asks for.
  file.addEventListener('change', async () => {
    info.replaceChildren();
    if (!file.files[0]) return;
    try {
      const p = await api('POST', '/api/v1/plugins/inspect', await file.files[0].arrayBuffer());
      if (!flow.value) flow.value = p.name;
      const boxes = p.capabilities.map(c => h('label', { class: 'row', title: c.description }, h('input', { type: 'checkbox', name: 'cap', value: c.name, checked: true, onchange: sync }), h('code', {}, c.name), ` ${c.description}`));
      function sync() { grants.value = boxes.map(b => b.querySelector('input')).filter(i => i.checked).map(i => i.value).join(','); }
      info.replaceChildren(h('p', {}, h('strong', { id: 'pkg-name' }, `${p.name}@${p.version}`), ` · ${p.vendor} · ${p.description} · `,
        h('span', { id: 'pkg-trust', class: p.trusted ? 'ok' : 'error' }, p.trusted ? `${t('admin.signedby')} ${p.signer} ✓` : `${t('admin.untrusted')}: ${p.refused}`)),
        h('p', { class: 'muted' }, t('admin.requested')), h('div', { id: 'pkg-caps' }, boxes),
        (p.unused_imports || []).length ? h('p', { class: 'muted', id: 'pkg-unused' }, t('admin.unused'), ' ', ...p.unused_imports.map(i => h('code', {}, i + ' '))) : '');
      sync();
    } catch (e) { info.replaceChildren(na(e)); }
  });
  return h('section', { class: 'card' }, h('h2', {}, t('admin.upload')), h('div', { class: 'row' }, file, flow, grants, h('label', { class: 'row' }, actv, t('admin.activate')),
    h('button', { type: 'button', class: 'primary', onclick: e => {
      if (!file.files[0] || !flow.value) return toast(`${t('admin.upload')}: file + flow`, 'warn');
      act(e.target, async () => api('POST', `/api/v1/plugins/install?flow=${encodeURIComponent(flow.value)}&grants=${encodeURIComponent(grants.value)}&activate=${actv.checked}`,
        await file.files[0].arrayBuffer()), r => `${r.plugin}@${r.plugin_version} → ${r.flow} ✓`).then(r => r && show('plugins'));
    } }, t('admin.upload'))), info);
}

const cell = v => v === null || v === undefined ? '—' : (typeof v === 'object' ? JSON.stringify(v) : String(v));
function simple(path, cols) {
  return async () => {
    const { data, error } = await load(path);
    if (error) return body.replaceChildren(na(error));
    body.replaceChildren(table(cols.map(c => ({ label: c, get: r => cell(r[c]) })), items(data)));
  };
}
function crud(path, cols, template, keyOf = r => r.id) {
  return async () => {
    const { data, error } = await load(path);
    const editor = h('textarea', { rows: 6, style: 'font-family:monospace', 'aria-label': 'JSON' }, JSON.stringify(template, null, 1));
    const save = h('button', { type: 'button', class: 'primary', onclick: async e => {
      let obj; try { obj = JSON.parse(editor.value); } catch (x) { return toast(`JSON: ${x.message}`, 'bad'); }
      if (await act(e.target, () => api('POST', path, obj), t('admin.saved'))) show(tab);
    } }, t('admin.save'));
    const rows = items(data);
    body.replaceChildren(...(error ? [na(error)] : [table([...cols.map(c => ({ label: c, get: r => cell(r[c]) })),
      { label: '', get: r => h('span', { class: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => { editor.value = JSON.stringify(r, null, 1); editor.focus(); } }, '✎'),
        h('button', { type: 'button', class: 'link', onclick: async e => { if (await act(e.target, () => api('DELETE', `${path}/${encodeURIComponent(keyOf(r))}`), t('admin.deleted'))) show(tab); } }, t('admin.delete'))) }], rows)]),
    h('section', { class: 'card', style: 'margin-top:8px' }, h('h3', {}, `${t('admin.add')} / ✎`), editor, save));
  };
}
async function hours() {
  const { data, error } = await load('/api/v1/calendars/default');
  if (error) return body.replaceChildren(na(error));
  const days = ['一', '二', '三', '四', '五', '六', '日'];
  const c = data.calendar;
  const editor = h('textarea', { rows: 8, style: 'font-family:monospace' }, JSON.stringify(c, null, 1));
  body.replaceChildren(h('p', {}, data.open_now ? '🟢 open now' : `🔴 closed · next ${data.next_open || '—'}`),
    table([{ label: '', get: ([d]) => `周${d}` }, { label: t('admin.hours'), get: ([, iv]) => (iv || []).map(i => `${i.open}–${i.close}`).join(', ') || '—' }], c.weekly.map((iv, i) => [days[i], iv])),
    h('p', {}, `holidays: ${(c.holidays || []).join(', ') || '—'}`), editor,
    h('button', { type: 'button', class: 'primary', onclick: async e => {
      let obj; try { obj = JSON.parse(editor.value); } catch (x) { return toast(`JSON: ${x.message}`, 'bad'); }
      if (await act(e.target, () => api('PUT', '/api/v1/calendars/default', obj), t('admin.saved'))) show('hours');
    } }, t('admin.save')));
}
