// DOM helpers, toasts (visible feedback for every action), formatting, CSV/XLSX export.
import { t } from './i18n.js';
import { xlsxBlob } from './xlsx.js';

export function h(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (k === 'class') n.className = v;
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else if (k === 'value') n.value = v;
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    n.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return n;
}

export function toast(msg, kind = 'info', ms = 4500) {
  const n = h('div', { class: `toast ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, msg);
  document.getElementById('toasts').append(n);
  setTimeout(() => n.remove(), kind === 'bad' ? ms * 2 : ms);
  return n;
}

/** Run an async action from a button: disables it meanwhile, toasts the result or the error. */
export async function act(button, fn, okMsg) {
  if (button) button.disabled = true;
  try {
    const r = await fn();
    if (okMsg) toast(typeof okMsg === 'function' ? okMsg(r) : okMsg, 'ok');
    return r;
  } catch (e) {
    toast(e.message || String(e), e.notAvailable ? 'warn' : 'bad');
    return undefined;
  } finally { if (button) button.disabled = false; }
}

export function na(e) { return h('div', { class: 'na', role: 'note' }, e && e.message ? e.message : t('na')); }

export function table(cols, rows, empty) {
  if (!rows || rows.length === 0) return h('p', { class: 'muted' }, empty || t('common.empty'));
  return h('table', {}, h('thead', {}, h('tr', {}, cols.map(c => h('th', { class: c.num ? 'num' : '' }, c.label)))),
    h('tbody', {}, rows.map(r => h('tr', {}, cols.map(c => h('td', { class: c.num ? 'num' : '' }, c.get(r)))))));
}

export const yuan = fen => `¥${(Number(fen || 0) / 100).toFixed(2)}`;
export const pct = v => (v === null || v === undefined) ? '—' : `${(v * 100).toFixed(1)}%`;
export const secs = v => (v === null || v === undefined) ? '—' : `${Math.round(v)}s`;
export function dur(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60), hh = Math.floor(m / 60);
  return hh > 0 ? `${hh}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}
export function when(iso) { if (!iso) return '—'; const d = new Date(iso); return isNaN(d) ? iso : d.toLocaleString(); }

function download(name, blob) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a); a.click(); a.remove();
  toast(`${name} ✓`, 'ok');
}

export function csvDownload(name, header, rows) {
  const esc = v => { const s = v === null || v === undefined ? '' : String(v); return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s; };
  const text = '\ufeff' + [header, ...rows].map(r => r.map(esc).join(',')).join('\r\n');
  download(name, new Blob([text], { type: 'text/csv;charset=utf-8' }));
}

export function xlsxDownload(name, header, rows) { download(name, xlsxBlob(name.replace(/\.xlsx$/, ''), header, rows)); }

/** "Export CSV" and "Export XLSX" buttons for one table; `data()` returns {header, rows}. */
export function exportButtons(base, data) {
  return h('span', { class: 'row export' },
    h('button', { type: 'button', dataset: { export: 'csv', name: base }, onclick: () => { const d = data(); csvDownload(`${base}.csv`, d.header, d.rows); } }, t('rep.csv')),
    h('button', { type: 'button', dataset: { export: 'xlsx', name: base }, onclick: () => { const d = data(); xlsxDownload(`${base}.xlsx`, d.header, d.rows); } }, t('rep.xlsx')));
}
