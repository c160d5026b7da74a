// Supervisor wallboard: live queue and agent state over the WebSocket, ACD KPIs from the ACD's
// own snapshot (the definitions of runtime/acd stats.rs, never recomputed here), supervision
// buttons and overdue work orders by escalation level.
import { t } from './i18n.js';
import { api } from './api.js';
import { h, act, na, table, pct, secs, dur, toast } from './ui.js';

let off, tick, poll, pollOverdue, refreshSoon, E = {};
const waiting = new Map();   // call_id -> {call_id, queue, caller, since}
const agents = new Map();    // agent_id -> {agent_id, name, extension, state, since_ms, call_id}
let snapshot = null, snapErr = null, log = [];

export function mount(el, ctx) {
  E = {};
  E.kpis = h('div', { class: 'kpis', id: 'wall-kpis' });
  E.queues = h('div', { id: 'wall-queues' });
  E.calls = h('div', { id: 'wall-calls' });
  E.agents = h('div', { id: 'wall-agents' });
  E.overdue = h('div', { id: 'wall-overdue' });
  E.log = h('div', { id: 'wall-log', class: 'list' });
  E.ext = h('input', { id: 'sup-ext', size: 8, placeholder: '8100', value: localStorage.getItem('courtyard.supext') || '' });
  E.ext.addEventListener('change', () => localStorage.setItem('courtyard.supext', E.ext.value));
  el.append(E.kpis, h('div', { class: 'grid wall' },
    h('section', { class: 'card' }, h('h2', {}, t('wall.queues')), E.queues, h('h3', {}, t('wall.calls')), E.calls),
    h('section', { class: 'card' }, h('div', { class: 'row' }, h('h2', {}, t('wall.agents')), h('span', { class: 'spacer' }), t('wall.ext'), E.ext), E.agents),
    h('section', { class: 'card' }, h('h2', {}, t('wall.overdue')), E.overdue),
    h('section', { class: 'card' }, h('h2', {}, t('wall.events')), E.log)));
  off = ctx.bus.on(onEvent);
  tick = setInterval(render, 1000);
  poll = setInterval(loadSnapshot, 5000);
  pollOverdue = setInterval(loadOverdue, 30000);
  loadSnapshot(); loadOverdue(); render();
}
export function unmount() { off && off(); clearInterval(tick); clearInterval(poll); clearInterval(pollOverdue); clearTimeout(refreshSoon); }

async function loadSnapshot() {
  try { applySnapshot(await api('GET', '/api/v1/acd/snapshot')); snapErr = null; }
  catch (e) { snapErr = e; }
  render();
}
function applySnapshot(s) {
  snapshot = s;
  for (const a of s.agents || []) agents.set(a.agent_id, { ...a, call_id: a.state.call_id });
}

function onEvent(ev) {
  const at = ev.at_ms || Date.now();
  switch (ev.type) {
    case 'acd_snapshot': applySnapshot(ev.snapshot || ev); snapErr = null; break;
    case 'call_queued': waiting.set(ev.call_id, { call_id: ev.call_id, queue: ev.queue, caller: ev.caller, since: at - 0, position: ev.position }); break;
    case 'call_answered': case 'call_abandoned': case 'call_timed_out': case 'callback_requested': waiting.delete(ev.call_id); break;
    case 'call_overflowed': if (ev.target && ev.target.queue) { const w = waiting.get(ev.call_id); if (w) w.queue = ev.target.queue; } else waiting.delete(ev.call_id); break;
    case 'agent_state_changed': {
      const a = agents.get(ev.agent_id) || { agent_id: ev.agent_id, name: ev.agent_id };
      agents.set(ev.agent_id, { ...a, extension: ev.extension ?? a.extension, state: ev.to, since_ms: at, call_id: ev.to.call_id });
      break;
    }
    case 'lagged': loadSnapshot(); break;
  }
  // Queue and agent events change the ACD's figures: refresh the snapshot soon (debounced), so
  // the per-queue counts never lag the live list by a whole polling period.
  if (/^(call_|offer_|agent_state_changed)/.test(ev.type)) { clearTimeout(refreshSoon); refreshSoon = setTimeout(loadSnapshot, 300); }
  if (ev.type !== 'hello') { log.unshift(ev); log = log.slice(0, 40); }
  render();
}

function render() {
  if (!E.kpis) return;
  const now = Date.now();
  const qs = snapshot ? snapshot.queues : [];
  const totals = qs.reduce((s, q) => { s.waiting += q.waiting; s.longest = Math.max(s.longest, q.longest_wait_secs); return s; }, { waiting: 0, longest: 0 });
  const liveWaiting = [...waiting.values()];
  const longestLive = liveWaiting.reduce((m, w) => Math.max(m, (now - w.since) / 1000), 0);
  const kpi = (label, value, id) => h('div', { class: 'kpi', id }, h('div', { class: 'label' }, label), h('div', { class: 'big' }, value));
  // Overall KPIs only from the ACD (per queue; the first queue with data is shown per card).
  const sl = qs.map(q => q.today.service_level).filter(v => v !== null && v !== undefined);
  const ab = qs.map(q => q.today.abandonment).filter(v => v !== null && v !== undefined);
  E.kpis.replaceChildren(
    kpi(t('wall.waiting'), snapshot ? Math.max(totals.waiting, liveWaiting.length) : liveWaiting.length, 'kpi-waiting'),
    kpi(t('wall.longest'), dur(1000 * Math.max(totals.longest, longestLive)), 'kpi-longest'),
    kpi(t('wall.sl'), snapshot ? (sl.length ? qs.map(q => pct(q.today.service_level)).join(' / ') : '—') : t('na'), 'kpi-sl'),
    kpi(t('wall.abandon'), snapshot ? (ab.length ? qs.map(q => pct(q.today.abandonment)).join(' / ') : '—') : t('na'), 'kpi-abandon'));
  E.queues.replaceChildren(...(snapErr ? [h('div', { class: 'na' }, t('wall.kpi.na'))] : []),
    table([{ label: t('wall.queue'), get: q => q.name }, { label: t('wall.waiting'), num: true, get: q => q.waiting }, { label: t('wall.longest'), num: true, get: q => dur(q.longest_wait_secs * 1000) },
      { label: t('wall.sl'), num: true, get: q => pct(q.today.service_level) }, { label: t('wall.abandon'), num: true, get: q => pct(q.today.abandonment) },
      { label: t('wall.asa'), num: true, get: q => secs(q.today.asa_secs) }, { label: t('wall.aht'), num: true, get: q => secs(q.today.aht_secs) },
      { label: t('state.ready'), num: true, get: q => `${q.agents_ready}/${q.agents_logged_in}` }], qs));
  E.calls.replaceChildren(table([{ label: t('wall.caller'), get: w => w.caller }, { label: t('wall.queue'), get: w => w.queue },
    { label: t('wall.longest'), num: true, get: w => dur(now - w.since) }], liveWaiting));
  const rows = [...agents.values()].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  E.agents.replaceChildren(table([{ label: t('wall.agent'), get: a => `${a.name || a.agent_id} (${a.extension || '—'})` },
    { label: t('wall.state'), get: a => h('span', { class: `state-${a.state?.state}` }, t(`state.${a.state?.state}`) + (a.state?.reason ? `（${a.state.reason}）` : '')) },
    { label: t('wall.since'), num: true, get: a => a.since_ms ? dur(now - a.since_ms) : '—' },
    { label: '', get: a => a.state?.state === 'on-call' ? h('span', { class: 'row' }, ['listen', 'whisper', 'barge'].map(m => h('button', { type: 'button', dataset: { mode: m, agent: a.agent_id }, onclick: e => supervise(e.target, m, a) }, t(`wall.${m}`)))) : '' }], rows));
  E.log.replaceChildren(...log.slice(0, 15).map(ev => h('div', { class: 'muted' }, `${new Date(ev.at_ms || now).toLocaleTimeString()} ${ev.type} ${ev.queue || ''} ${ev.agent_id || ''} ${ev.caller || ''}`)));
}

async function supervise(btn, mode, a) {
  const ext = E.ext.value.trim();
  if (!ext) { toast(t('wall.ext.required'), 'warn'); E.ext.focus(); return; }
  btn.disabled = true;
  try {
    await api('POST', '/api/v1/supervise', { mode, supervisor_extension: ext, agent_id: a.agent_id });
    toast(t('wall.supervise.ok', { mode: t(`wall.${mode}`), ext }), 'ok');
  } catch (e) {
    toast(e.status === 503 ? t('wall.supervise.503') : e.message, e.notAvailable ? 'warn' : 'bad');
  } finally { btn.disabled = false; }
}

async function loadOverdue() {
  try {
    const r = await api('GET', '/api/v1/sla/overdue');
    E.overdue.replaceChildren(...(r.levels || []).map(l => h('div', {}, h('h3', {}, `${t('wall.level')} ${l.level} · ${l.name} (${l.orders.length})`),
      table([{ label: '#', get: o => o.order_id }, { label: t('wall.state'), get: o => o.state }, { label: '', get: o => o.assignee || '—' }, { label: '', get: o => new Date(o.escalated_at).toLocaleString() }], l.orders))));
    if (!(r.levels || []).length) E.overdue.replaceChildren(h('p', { class: 'muted' }, t('common.empty')));
  } catch (e) { E.overdue.replaceChildren(na(e)); }
}
