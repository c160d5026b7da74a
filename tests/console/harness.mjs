// Test harness: starts the real `courtyard demo` binary (or, while the runtime is not wired yet,
// the console-dev example = courtyard-api + console over a demo store, no SIP), a headless
// Debian chromium through playwright-core, and small helpers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts/console');
mkdirSync(ARTIFACTS, { recursive: true });

/** Which server the tests run against: `real` (courtyard demo) or `dev` (console-dev example). */
export function serverKind() {
  return process.env.CONSOLE_SERVER || (existsSync(courtyardBin()) ? 'real' : 'dev');
}
export function courtyardBin() {
  return process.env.COURTYARD_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'release/courtyard');
}

/** Start the server; resolves to { kind, http, sip, data, proc, log(), stop() } once it prints its addresses. */
export async function startServer() {
  const kind = serverKind();
  const data = mkdtempSync(path.join(tmpdir(), 'courtyard-console-'));
  let cmd, args;
  if (kind === 'real') {
    cmd = courtyardBin();
    args = ['demo', '--sip', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', data,
      '--plugins', path.join(ROOT, 'plugins/target/wasm32-wasip2/release'), '--hours', '24x7'];
  } else {
    cmd = process.env.CONSOLE_DEV_BIN;
    if (!cmd || !existsSync(cmd)) throw new Error(`no server: build target/release/courtyard or set CONSOLE_DEV_BIN (tests/console/run.sh does)`);
    args = ['--http', '127.0.0.1:0', '--data', data, '--demo', path.join(ROOT, 'examples/demo-data')];
  }
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' } });
  let out = '';
  proc.stdout.on('data', d => { out += d; });
  proc.stderr.on('data', d => { out += d; });
  const addrs = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print http= within 90 s:\n${out}`)), 90000);
    const check = () => {
      const http = /^http=(\S+)/m.exec(out), sip = /^sip=(\S+)/m.exec(out);
      if (http && (kind !== 'real' || sip)) { clearTimeout(timer); resolve({ http: http[1], sip: sip && sip[1] }); }
    };
    proc.stdout.on('data', check); proc.stderr.on('data', check);
    proc.on('exit', code => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${out}`)); });
  });
  proc.removeAllListeners('exit');
  const probe = await fetch(`http://${addrs.http}/console/`).catch(e => ({ status: String(e) }));
  if (probe.status !== 200) {
    proc.kill('SIGTERM');
    throw new Error(`${cmd} does not serve /console/ (status ${probe.status}): mount courtyard_console::router next to the API (runtime/console/README.md)`);
  }
  return {
    kind, data, proc, ...addrs,
    base: `http://${addrs.http}`,
    log: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise(r => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 10000); proc.on('exit', () => { clearTimeout(t); r(); }); });
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

/** A fresh chromium profile (own --user-data-dir) with a 1366×768 window. */
export async function openBrowser() {
  const dir = mkdtempSync(path.join(tmpdir(), 'courtyard-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: FLAGS,
    viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
  });
  ctx.setDefaultTimeout(15000);
  return { ctx, async close() { await ctx.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Open the console in a new page of `ctx` and sign in. Page errors fail the test at the end. */
export async function login(ctx, base, user, pass) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', e => page.errors.push(String(e)));
  page.on('dialog', d => d.accept());
  await page.goto(`${base}/console/`);
  await page.fill('#login-form input[name=username]', user);
  await page.fill('#login-form input[name=password]', pass);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#shell:not(.hidden)');
  await page.waitForSelector('#ws-status.ok');
  return page;
}

export async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Layout check for 1366×768: nothing wider than the window. */
export async function noHorizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

/** Last toast texts. */
export async function toasts(page) { return page.$$eval('#toasts .toast', ns => ns.map(n => `${n.className}: ${n.textContent}`)); }

export async function apiJson(base, method, p, token, body) {
  const r = await fetch(`${base}${p}`, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  let json = null; try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, json };
}
export async function token(base, user, pass) { return (await apiJson(base, 'POST', '/api/v1/auth/login', null, { username: user, password: pass })).json.token; }

export function have(cmd) { return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0; }
