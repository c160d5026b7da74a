// Agent desktop: state buttons, screen-pop before answer, registration, work orders from the
// call, KB search, missed calls, wrap-up codes, transfer and click-to-call.
import { t } from './i18n.js';
import { api } from './api.js';
import { h, toast, act, na, table, yuan, when, dur } from './ui.js';

const WRAP_CODES = ['wrap.resolved', 'wrap.order', 'wrap.info', 'wrap.transfer', 'wrap.wrong'];
const REASONS = ['reason.meeting', 'reason.training', 'reason.admin', 'reason.meal'];
const CATS = ['repair', 'complaint', 'suggestion', 'inquiry'];
const PRIS = ['normal', 'high', 'urgent', 'low'];
const NEXT = ['dispatched', 'accepted', 'in-progress', 'done', 'callback', 'closed'];

let root, off, me, agentId, call = null, pop = null, choice = null, missed = [];
const E = {};

export function mount(el, ctx) {
  root = el; me = ctx.me; agentId = me.agent_id || me.username;
  el.append(h('div', { class: 'grid desk' },
    h('div', { class: 'grid' }, stateCard(), missedCard(), kbCard()),
    h('div', { class: 'grid' }, popCard()),
    h('div', { class: 'grid' }, orderCard(), lookupCard(), dialCard())));
  off = ctx.bus.on(onEvent);
  renderPop();
  loadMissed();
  loadWrapCodes();
}
export function unmount() { if (off) off(); off = null; }

// ---- state ---------------------------------------------------------------------------------
function stateCard() {
  E.state = h('span', { id: 'agent-state', class: 'state-logged-out' }, t('state.logged-out'));
  E.reason = h('select', { id: 'nr-reason', 'aria-label': t('state.reason') }, REASONS.map(r => h('option', { value: t(r) }, t(r))));
  const b = (key, body) => h('button', { type: 'button', id: `btn-${key}`, onclick: e => setState(e.target, key, body()) }, t(`state.${key}`));
  return h('section', { class: 'card' }, h('h2', {}, `${t('state.current')}: `, E.state, h('span', { class: 'muted' }, ` (${agentId})`)),
    h('div', { class: 'row', style: 'margin-bottom:6px' }, h('button', { type: 'button', id: 'btn-login', onclick: e => setState(e.target, 'ready', { state: 'login' }) }, t('state.login')),
      h('button', { type: 'button', id: 'btn-logout', onclick: e => setState(e.target, 'logged-out', { state: 'logout' }) }, t('state.logout'))),
    h('div', { class: 'row' }, b('ready', () => ({ state: 'ready' })), b('not-ready', () => ({ state: 'not-ready', reason: E.reason.value })), E.reason,
      b('break', () => ({ state: 'break' })), b('wrap-up', () => ({ state: 'wrap-up' }))));
}
function showState(s, reason) {
  E.state.className = `state-${s}`;
  E.state.textContent = t(`state.${s}`) + (reason ? `（${reason}）` : '');
}
async function setState(btn, key, body) {
  const r = await act(btn, () => api('POST', `/api/v1/acd/agents/${encodeURIComponent(agentId)}/state`, body), () => `${t('state.changed')} ${t('state.' + key)}`);
  if (r !== undefined) showState(key, body.reason);
}

// ---- events --------------------------------------------------------------------------------
function onEvent(ev) {
  if (ev.type === 'agent_state_changed' && ev.agent_id === agentId) showState(ev.to.state, ev.to.reason);
  if (ev.type === 'offer_started' && ev.agent_id === agentId) startOffer(ev);
  if (!call || ev.call_id !== call.call_id) {
    if (ev.type === 'missed_call_recorded') { missed.unshift(ev.missed); renderMissed(); }
    return;
  }
  if (ev.type === 'call_answered') { call.status = 'answered'; renderPop(); }
  if (ev.type === 'offer_ended' && call.status === 'ringing') { toast(`${t('pop.title')}: ${ev.result}`, 'warn'); call.status = 'offer-ended'; renderPop(); }
  if (ev.type === 'call_ended') { call.status = 'ended'; renderPop(); }
}

async function startOffer(ev) {
  call = { call_id: ev.call_id, queue: ev.queue, caller: ev.caller, waited: ev.waited_secs, status: 'ringing', data_ref: ev.data_ref, orders: [] };
  pop = null; choice = null; call.error = null;
  renderPop();
  try {
    const r = await api('GET', `/console/api/pop/${encodeURIComponent(ev.call_id)}`);
    if (!call || call.call_id !== ev.call_id) return;
    pop = r.view; call.caller = r.caller;
    choice = preselect(pop, ev.data_ref);
  } catch (e) { call.error = e.message; }
  renderPop();
}

function preselect(v, ref) {
  const opts = options(v);
  if (opts.length === 0) return null;
  return opts.find(o => ref && (o.resident?.id === ref || o.unit?.id === ref)) || (opts.length === 1 ? opts[0] : null);
}
function options(v) {
  const out = [];
  for (const r of v.residents || []) {
    const units = (r.unit_ids || []).map(id => (v.units || []).find(u => u.id === id) || { id });
    if (units.length === 0) out.push({ resident: r, unit: null });
    for (const u of units) out.push({ resident: r, unit: u });
  }
  return out;
}
const unitLabel = u => u ? (u.building ? `${u.estate_id} ${u.building}栋${u.entrance}单元${u.room}` : u.id) : '—';

// ---- screen pop ----------------------------------------------------------------------------
function popCard() { E.pop = h('section', { id: 'screen-pop', class: 'card' }); return E.pop; }

function renderPop() {
  const el = E.pop;
  el.replaceChildren();
  el.className = 'card' + (call ? (call.status === 'ringing' ? ' pop' : ' pop answered') : '');
  if (!call && !pop) { el.append(h('h2', {}, t('pop.title')), h('p', { class: 'muted' }, t('pop.waiting'))); return; }
  if (!call) el.append(h('h2', { id: 'pop-status' }, `${t('lookup.title')}: ${pop.number || ''}`));
  if (call) {
    const status = { ringing: 'pop.ringing', answered: 'pop.answered', ended: 'pop.ended', 'offer-ended': 'pop.ended' }[call.status] || 'pop.title';
    el.append(h('h2', { id: 'pop-status' }, t(status)),
      h('div', { class: 'row' }, h('span', { class: 'big', id: 'pop-caller' }, call.caller || ''),
        h('span', { class: 'muted' }, `${t('pop.queue')}: ${call.queue || '—'} · ${t('pop.waited')}: ${call.waited ?? 0}s · ${call.call_id}`)));
    if (call.error) el.append(h('p', { class: 'error', role: 'alert' }, t('pop.failed', { msg: call.error })));
  }
  if (pop) {
    const opts = options(pop);
    if (opts.length === 0) el.append(registerForm());
    else if (!choice) el.append(h('div', { class: 'picker', id: 'pop-picker' }, h('h3', {}, t('pop.pick')),
      opts.map(o => h('button', { type: 'button', onclick: () => { choice = o; renderPop(); } }, `${o.resident.name} · ${unitLabel(o.unit)} (${o.resident.role})`))));
    else el.append(popDetails(opts));
    // Remember whether the owner's details reached the screen while the phone was still ringing.
    if (call && !call.shownWhile) call.shownWhile = call.status;
  }
  if (call?.shownWhile) el.dataset.shownWhile = call.shownWhile;
  if (call && (call.status === 'answered' || call.status === 'ended')) el.append(callTools());
  updateOrderForm();
}

function popDetails(opts) {
  const r = choice.resident, u = choice.unit;
  const arrears = (pop.arrears || []).filter(([unit]) => !u || unit === u.id);
  const owed = arrears.reduce((s, [, fen]) => s + fen, 0);
  const audio = c => c.recording_id ? h('audio', { controls: true, preload: 'none', src: `/api/v1/recordings/${encodeURIComponent(c.recording_id)}/audio` }) : h('span', { class: 'muted' }, '—');
  return h('div', {},
    h('dl', { id: 'pop-owner' },
      h('dt', {}, t('pop.owner')), h('dd', {}, h('strong', { id: 'pop-name' }, `${r.name}${r.honorific ? ' ' + r.honorific : ''}`), r.vip ? ' ★VIP' : '', ` (${r.role})`),
      h('dt', {}, t('pop.units')), h('dd', { id: 'pop-units' }, (r.unit_ids || []).map(id => unitLabel((pop.units || []).find(x => x.id === id) || { id })).join('，') || t('pop.none')),
      h('dt', {}, t('pop.arrears')), h('dd', { id: 'pop-arrears', class: owed > 0 ? 'error' : 'ok' }, owed > 0 ? `${yuan(owed)}（${arrears.map(([k, f]) => `${k}: ${yuan(f)}`).join('，')}）` : t('pop.none'))),
    opts.length > 1 ? h('button', { type: 'button', class: 'link', onclick: () => { choice = null; renderPop(); } }, t('pop.pick')) : null,
    h('h3', {}, t('pop.orders')),
    table([{ label: '#', get: o => o.id }, { label: t('order.category'), get: o => t(`cat.${o.category}`) }, { label: t('wall.state'), get: o => o.state },
      { label: t('order.desc'), get: o => o.description }, { label: '', get: o => h('button', { type: 'button', class: 'link', onclick: () => pickOrder(o) }, t('order.update')) }], pop.open_orders),
    h('h3', {}, t('pop.calls')),
    table([{ label: '', get: c => when(c.start) }, { label: t('pop.queue'), get: c => c.queue || c.flow || '—' }, { label: t('wall.agent'), get: c => c.agent || '—' },
      { label: t('common.play'), get: audio }], (pop.last_calls || []).slice(0, 5)));
}

function registerForm() {
  const f = h('form', { id: 'register-form', onsubmit: async e => {
    e.preventDefault();
    const d = new FormData(f);
    const body = { id: `r-${Date.now().toString(36)}`, name: d.get('name'), role: d.get('role'), unit_ids: d.get('unit') ? [d.get('unit')] : [], vip: false, language: 'zh' };
    const saved = await act(f.querySelector('button'), () => call ? api('POST', `/console/api/calls/${encodeURIComponent(call.call_id)}/resident`, body)
      : Promise.reject(new Error(t('order.needcall'))), t('reg.done'));
    if (saved) { pop.residents = [saved]; choice = preselect(pop, saved.id) || { resident: saved, unit: null }; renderPop(); }
  } },
  h('h3', {}, t('pop.unknown')),
  h('label', {}, t('reg.name'), h('input', { name: 'name', required: true })),
  h('label', {}, t('reg.unit'), h('input', { name: 'unit' })),
  h('label', {}, t('reg.role'), h('select', { name: 'role' }, h('option', { value: 'owner' }, t('reg.owner')), h('option', { value: 'tenant' }, t('reg.tenant')))),
  h('button', { type: 'submit', class: 'primary' }, t('reg.save')));
  return f;
}

let wrapCodes = null;   // GET /api/v1/wrapup-codes (configurable); built-in list until it answers
async function loadWrapCodes() {
  try { const r = await api('GET', '/api/v1/wrapup-codes'); if (Array.isArray(r) && r.length) wrapCodes = r; } catch { /* built-in list */ }
}
const wrapLabel = c => { const k = `wrapcode.${c}`, l = t(k); return l === k ? c : l; };

function callTools() {
  const codes = wrapCodes || WRAP_CODES.map(c => c.split('.')[1]);
  const code = h('select', { id: 'wrap-code' }, codes.map(c => h('option', { value: c }, wrapLabel(c))));
  const note = h('input', { id: 'wrap-note', size: 14, placeholder: t('order.note') });
  const kind = h('select', { id: 'transfer-kind', 'aria-label': t('call.transfer') }, ['queue', 'extension', 'number'].map(k => h('option', { value: k }, t(`transfer.${k}`))));
  const target = h('input', { id: 'transfer-target', placeholder: 'billing / 8002', size: 10 });
  const attended = h('input', { type: 'checkbox', id: 'transfer-attended' });
  const consult = h('span', { class: 'row', id: 'transfer-consult' });
  const step = (btn, s) => act(btn, () => api('POST', `/api/v1/calls/${encodeURIComponent(call.call_id)}/transfer/${s}`), `${t(`transfer.${s}`)} ✓`).then(r => { if (r !== undefined) consult.replaceChildren(); });
  return h('div', { class: 'card', style: 'margin-top:8px' },
    h('div', { class: 'row' }, h('strong', {}, t('wrap.title')), code, note,
      h('button', { type: 'button', id: 'wrap-save', onclick: e => act(e.target, () => api('POST', `/api/v1/acd/calls/${encodeURIComponent(call.call_id)}/wrap-up`, { agent_id: agentId, code: code.value, note: note.value }), t('wrap.saved')) }, t('wrap.save'))),
    h('div', { class: 'row', style: 'margin-top:6px' }, h('strong', {}, t('call.transfer')), kind, target, h('label', { class: 'row', title: t('transfer.attended.hint') }, attended, t('transfer.attended')),
      h('button', { type: 'button', id: 'transfer-go', onclick: async e => {
        const v = target.value.trim();
        if (!v) { toast(t('transfer.target.required'), 'warn'); target.focus(); return; }
        const att = attended.checked && kind.value === 'extension';
        const r = await act(e.target, () => api('POST', `/api/v1/calls/${encodeURIComponent(call.call_id)}/transfer`, { [kind.value]: v, attended: att }), att ? t('transfer.consulting') : `${t('call.transfer')} ✓`);
        if (r !== undefined && att) consult.replaceChildren(h('button', { type: 'button', class: 'primary', onclick: ev => step(ev.target, 'complete') }, t('transfer.complete')),
          h('button', { type: 'button', onclick: ev => step(ev.target, 'cancel') }, t('transfer.cancel')));
      } }, t('call.transfer')), consult));
}

// ---- work orders ---------------------------------------------------------------------------
function orderCard() {
  E.orderForm = h('form', { id: 'order-form', onsubmit: createOrder },
    h('h2', {}, t('order.title')),
    h('label', {}, t('order.category'), h('select', { name: 'category' }, CATS.map(c => h('option', { value: c }, t(`cat.${c}`))))),
    h('label', {}, t('order.desc'), h('textarea', { name: 'description' })),
    h('label', {}, t('order.priority'), h('select', { name: 'priority' }, PRIS.map(p => h('option', { value: p }, t(`pri.${p}`))))),
    E.orderHint = h('p', { class: 'muted' }),
    h('button', { type: 'submit', class: 'primary', id: 'order-create' }, t('order.create')),
    E.orderResult = h('p', { id: 'order-result', class: 'ok' }));
  E.update = h('div', { id: 'order-update' });
  return h('section', { class: 'card' }, E.orderForm, E.update);
}
function updateOrderForm() {
  if (!E.orderHint) return;
  E.orderHint.textContent = call ? `${call.call_id} · ${choice ? unitLabel(choice.unit) : ''}` : t('order.needcall');
}
async function createOrder(e) {
  e.preventDefault();
  const d = new FormData(E.orderForm);
  if (!String(d.get('description') || '').trim()) return toast(t('order.desc.required'), 'warn');
  if (!call) return toast(t('order.needcall'), 'warn');
  const body = { category: d.get('category'), description: d.get('description'), priority: d.get('priority'),
    unit_id: choice?.unit?.id || null, estate_id: choice?.unit?.estate_id || null };
  const o = await act(E.orderForm.querySelector('button[type=submit]'), () => api('POST', `/console/api/calls/${encodeURIComponent(call.call_id)}/order`, body), o => t('order.created', { id: o.id }));
  if (o) { E.orderResult.textContent = t('order.created', { id: o.id }); E.orderForm.elements.description.value = ''; if (pop) { pop.open_orders = [o, ...(pop.open_orders || [])]; renderPop(); } }
}
function pickOrder(o) {
  const to = h('select', { name: 'to' }, NEXT.map(s => h('option', { value: s }, s)));
  const assignee = h('input', { name: 'assignee', placeholder: '王师傅' });
  const note = h('input', { name: 'note', placeholder: t('order.note') });
  E.update.replaceChildren(h('h3', {}, `${t('order.update')} ${o.id}`), h('div', { class: 'row' }, t('order.to'), to, assignee), note,
    h('button', { type: 'button', id: 'order-transition', onclick: e => act(e.target, () => api('POST', `/api/v1/orders/${encodeURIComponent(o.id)}/transition`,
      { to: to.value, assignee: assignee.value || null, note: note.value || null }), t('order.updated')) }, t('order.update')));
}

// ---- lookup, KB, missed, dial -------------------------------------------------------------
function lookupCard() {
  const n = h('input', { id: 'lookup-number', placeholder: '13800138000', size: 14 });
  return h('section', { class: 'card' }, h('h2', {}, t('lookup.title')), h('div', { class: 'row' }, n,
    h('button', { type: 'button', onclick: async e => {
      const v = await act(e.target, () => api('GET', `/api/v1/callers/${encodeURIComponent(n.value.trim())}`));
      if (v) { call = null; pop = v; choice = preselect(v, null); renderPop(); }
    } }, t('lookup.go'))));
}
function kbCard() {
  const q = h('input', { id: 'kb-q', size: 22, 'data-i18n-ph': 'kb.search', placeholder: t('kb.search') });
  const out = h('div', { id: 'kb-results', class: 'list' });
  const go = async btn => {
    const r = await act(btn, () => api('GET', `/api/v1/kb?q=${encodeURIComponent(q.value)}`));
    if (!r) return;
    const hits = Array.isArray(r) ? r : (r.items || []);
    out.replaceChildren(...(hits.length ? hits.slice(0, 5).map(x => { const a = x.article || x; return h('details', {}, h('summary', {}, a.title), h('p', {}, a.answer || a.body)); })
      : [h('p', { class: 'muted' }, t('kb.none'))]));
  };
  return h('section', { class: 'card' }, h('h2', {}, t('kb.title')),
    h('form', { class: 'row', onsubmit: e => { e.preventDefault(); go(e.target.querySelector('button')); } }, q, h('button', { type: 'submit' }, t('lookup.go'))), out);
}
function missedCard() { E.missed = h('div', { id: 'missed-list', class: 'list' }); return h('section', { class: 'card' }, h('h2', {}, t('missed.title')), E.missed); }
async function loadMissed() {
  try { missed = await api('GET', '/api/v1/acd/missed?open=true'); renderMissed(); }
  catch (e) { E.missed.replaceChildren(na(e)); E.missedNa = e; }
}
function renderMissed() {
  const rows = missed.filter(m => !m.called_back);
  E.missed.replaceChildren(...(E.missedNa ? [na(E.missedNa)] : []), table([{ label: t('call.number'), get: m => m.caller }, { label: '', get: m => dur(Date.now() - m.at_ms) },
    { label: '', get: m => h('button', { type: 'button', onclick: async e => {
      const r = await act(e.target, () => api('POST', `/api/v1/acd/missed/${encodeURIComponent(m.call_id)}/call-back`, { agent_id: agentId }), `${t('missed.callback')} ✓`);
      if (r !== undefined) { m.called_back = true; renderMissed(); }
    } }, t('missed.callback')) }], rows, t('missed.empty')));
}
function dialCard() {
  const n = h('input', { id: 'dial-number', size: 14 });
  return h('section', { class: 'card' }, h('h2', {}, t('call.dial')), h('div', { class: 'row' }, n,
    h('button', { type: 'button', onclick: e => act(e.target, () => api('POST', '/api/v1/calls/originate', { agent_id: agentId, number: n.value.trim() }), `${t('call.dial')} ✓`) }, t('call.dial'))));
}
