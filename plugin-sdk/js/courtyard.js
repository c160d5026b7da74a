// Courtyard flow SDK for JavaScript (componentize-js): helpers so a flow reads like the Rust one.
//
//   import { inbound, Prompt, money, Collect } from './courtyard.js';
//   export const { checkConfig, handleCall } = inbound((call) => {
//     call.say('您好,您本月物业费为', money(32050));
//     const key = call.ask('确认请按1', Collect.digits(1), { keys: ['1', '2'] });
//   });
//
// Host functions are the generated `courtyard:flow/*@0.1.0` imports; a WIT error arrives as a
// thrown ComponentError whose `payload` is the variant. This module turns them into `Hangup`,
// `CallFailed` and `ServiceError`. See docs/plugin-guide-js.md.

import * as rawCall from 'courtyard:flow/call@0.1.0';
import * as rawDirectory from 'courtyard:flow/directory@0.1.0';
import * as rawBilling from 'courtyard:flow/billing@0.1.0';
import * as rawWorkOrders from 'courtyard:flow/work-orders@0.1.0';
import * as rawNotify from 'courtyard:flow/notify@0.1.0';
import * as rawKv from 'courtyard:flow/kv@0.1.0';
import * as rawLog from 'courtyard:flow/log@0.1.0';
import * as rawConfig from 'courtyard:flow/config@0.1.0';
import * as rawClock from 'courtyard:flow/clock@0.1.0';
import * as rawContent from 'courtyard:flow/content@0.1.0';

// ---------------------------------------------------------------- errors

/** Base of the errors the SDK throws. */
export class FlowError extends Error {}

/** The caller hung up: return promptly (a normal end of the call). */
export class Hangup extends FlowError {
  constructor() { super('the caller hung up'); }
}

/** A call-control function failed (not allowed by the dial plan, media error, ...). */
export class CallFailed extends FlowError {}

/** A business service failed; `kind` is "unavailable", "invalid" or "denied". */
export class ServiceError extends FlowError {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
    this.detail = message;
  }
}

/** An `ask` got no valid answer after all attempts; `reason` is "invalid" or "timeout". */
export class Miss extends FlowError {
  constructor(reason) { super(`no valid answer (${reason})`); this.reason = reason; }
}

function payloadOf(e) {
  return e && typeof e === 'object' && 'payload' in e ? e.payload : undefined;
}

function callChecked(fn, ...args) {
  try {
    return fn(...args);
  } catch (e) {
    const p = payloadOf(e);
    if (p === undefined) throw e;
    if (p.tag === 'hangup') throw new Hangup();
    if (p.tag === 'not-allowed') throw new CallFailed(`not allowed: ${p.val}`);
    throw new CallFailed(`failed: ${p.val}`);
  }
}

function serviceChecked(fn) {
  return (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      const p = payloadOf(e);
      if (p === undefined) throw e;
      throw new ServiceError(p.tag, p.val);
    }
  };
}

function wrapService(raw, extra = {}) {
  const out = {};
  for (const [name, fn] of Object.entries(raw)) out[name] = serviceChecked(fn);
  return Object.freeze(Object.assign(out, extra));
}

// ---------------------------------------------------------------- prompts

/** Text spoken by TTS. */
export const text = (t) => ({ tag: 'text', val: String(t) });
/** An amount in fen read in money form (32050 -> 三百二十元五角). */
export const money = (fen) => ({ tag: 'money', val: BigInt(fen) });
/** A number read as a quantity (1502 -> 一千五百零二). */
export const number = (n) => ({ tag: 'number', val: BigInt(n) });
/** A string read digit by digit (phone and order numbers). */
export const digits = (s) => ({ tag: 'digits', val: String(s) });
/** An ISO date read as a date. */
export const date = (iso) => ({ tag: 'date', val: iso });
/** Silence of `ms` milliseconds. */
export const pause = (ms) => ({ tag: 'pause', val: ms });
/** A prompt-library entry (a recorded WAV when the operator has one for `key`). */
export const named = (key, fallbackText) => ({ tag: 'prompt', val: { key, fallbackText } });

/** A sequence of segments played as one prompt (strings become text segments). */
export class Prompt {
  constructor(...parts) {
    this.segments = [];
    for (const p of parts) this.#add(p);
  }

  #add(part) {
    if (part === null || part === undefined) return;
    if (part instanceof Prompt) this.segments.push(...part.segments);
    else if (typeof part === 'string') { if (part) this.segments.push(text(part)); }
    else if (Array.isArray(part)) for (const p of part) this.#add(p);
    else this.segments.push(part);
  }

  /** A new prompt: this one followed by `parts`. */
  then(...parts) {
    const out = new Prompt(this);
    for (const p of parts) out.#add(p);
    return out;
  }

  /** True when nothing would be played. */
  isEmpty() { return this.segments.length === 0; }

  /** An operator text with `{name}` placeholders replaced by prompts/segments/text; unknown
   * placeholders stay literal so a configuration typo is audible. */
  static template(tpl, values = {}) {
    const out = new Prompt();
    let literal = '';
    let rest = tpl;
    for (;;) {
      const open = rest.indexOf('{');
      if (open < 0) break;
      literal += rest.slice(0, open);
      const after = rest.slice(open + 1);
      const close = after.indexOf('}');
      if (close < 0) { literal += '{'; rest = after; continue; }
      const key = after.slice(0, close);
      if (Object.prototype.hasOwnProperty.call(values, key)) {
        out.#add(literal); literal = '';
        out.#add(values[key]);
      } else {
        literal += `{${key}}`;
      }
      rest = after.slice(close + 1);
    }
    out.#add(literal + rest);
    return out;
  }
}

/** Anything prompt-like (string, segment, array, Prompt) as a Prompt. */
export const asPrompt = (p) => (p instanceof Prompt ? p : new Prompt(p));

// ---------------------------------------------------------------- the call

/** How to collect digits: `Collect.digits(1)` for a menu key, `Collect.between(1, 6)`, ... */
export class Collect {
  constructor(min, max) {
    this.min = min;
    this.max = Math.max(max, min, 1);
    this.firstMs = 5000;
    this.interMs = 3000;
    this.term = undefined;
    this.barge = false;
  }
  /** Exactly `n` digits. */
  static digits(n) { return new Collect(n, n); }
  /** Between `min` and `max` digits (add a terminator for variable lengths). */
  static between(min, max) { return new Collect(min, max); }
  /** Wait for the first digit after the prompt ended. */
  timeoutMs(ms) { this.firstMs = ms; return this; }
  /** Wait between digits. */
  interDigitMs(ms) { this.interMs = ms; return this; }
  /** A key ending input early ("#"), not included in the digits. */
  terminator(key) { this.term = key; return this; }
  /** A key press interrupts the prompt (and counts as the first digit). */
  bargeIn(on = true) { this.barge = !!on; return this; }
  /** The WIT record sent to the host. */
  options() {
    return {
      minDigits: this.min, maxDigits: this.max, firstDigitTimeoutMs: this.firstMs,
      interDigitTimeoutMs: this.interMs, terminator: this.term, bargeIn: this.barge,
    };
  }
}

/** The call this plugin instance handles. */
export class Call {
  constructor(info) { this.info = info; }
  /** The live call. */
  static current() { return new Call(rawCall.info()); }
  /** Caller number ("anonymous" when withheld). */
  get caller() { return this.info.caller; }
  /** Number that routed the call here. */
  get called() { return this.info.called; }
  /** Estate of the called number, when known. */
  get estateId() { return this.info.estateId; }
  /** Unique id of the call. */
  get callId() { return this.info.callId; }
  /** Prompt language ("zh" or "en"). */
  get language() { return this.info.language; }

  /** Answer the call (idempotent). */
  answer() { callChecked(rawCall.answer); }
  /** Play a prompt to the end. */
  say(...parts) { callChecked(rawCall.say, new Prompt(...parts).segments, false); }
  /** Play a prompt that a key press interrupts (the key is kept for the next collect). */
  sayInterruptible(...parts) { callChecked(rawCall.say, new Prompt(...parts).segments, true); }
  /** Play a prompt, then collect digits; returns `{ digits, endedBy }`. */
  collect(prompt, collect) { return callChecked(rawCall.collect, asPrompt(prompt).segments, collect.options()); }

  /** Ask with validation and retries; returns the answer or throws `Miss` after `attempts`.
   * Options: `keys` (accepted answers), `accept(digits)`, `attempts` (3), `onInvalid`, `onTimeout`. */
  ask(prompt, collect, { keys, accept, attempts = 3, onInvalid, onTimeout } = {}) {
    if (keys) accept = (d) => keys.includes(d);
    else if (!accept) { const least = Math.max(collect.min, 1); accept = (d) => d.length >= least; }
    const p = asPrompt(prompt);
    let prefix = new Prompt();
    let reason = 'timeout';
    for (let i = 0; i < Math.max(attempts, 1); i++) {
      const got = this.collect(prefix.then(p), collect);
      if (accept(got.digits)) return got.digits;
      if (got.digits === '') { reason = 'timeout'; prefix = asPrompt(onTimeout); }
      else { reason = 'invalid'; prefix = asPrompt(onInvalid); }
    }
    throw new Miss(reason);
  }

  /** Record the caller; returns `{ id, durationMs }`. */
  record({ maxSeconds = 60, silenceTimeoutMs = 3000, terminator = '#', beep = true } = {}) {
    return callChecked(rawCall.record, { maxSeconds, silenceTimeoutMs, terminator, beep });
  }
  /** Blind transfer to an agent or allowed external number. */
  transfer(target) { callChecked(rawCall.transfer, target); }
  /** Queue the caller; returns `{ tag: 'answered', val: agent }` or tag abandoned / timeout / callback-requested. */
  enqueue(queue, priority = 0) { return callChecked(rawCall.enqueue, queue, priority); }
  /** End the call. */
  hangup() { rawCall.hangup(); }
  /** Set a call variable (call record, agent screen-pop). */
  setVar(name, value) { rawCall.setVar(name, String(value)); }
  /** A call variable, or undefined. */
  getVar(name) { return rawCall.getVar(name); }
  /** Mark a step of the IVR path for reports. */
  mark(node) { rawCall.mark(node); }
}

// ---------------------------------------------------------------- services

/** Caller lookup, units, estates, warranty (throws ServiceError). */
export const directory = wrapService(rawDirectory);
/** Bills, arrears, payment links (throws ServiceError). */
export const billing = wrapService(rawBilling);
/** Work orders and callback tasks (throws ServiceError). */
export const workOrders = wrapService(rawWorkOrders);
/** SMS, e-mail, webhook, on-duty messages (throws ServiceError). */
export const notify = wrapService(rawNotify, {
  sms: (to, body) => serviceChecked(rawNotify.send)('sms', to, body),
  onDuty: (to, body) => serviceChecked(rawNotify.send)('on-duty', to, body),
});
/** Plugin-scoped key-value storage (throws ServiceError). */
export const kv = wrapService(rawKv);
/** Time and working-hours calendars. */
export const clock = Object.freeze({
  now: rawClock.now, isOpen: rawClock.isOpen, nextOpen: rawClock.nextOpen,
  today: () => rawClock.now().slice(0, 10),
});
/** Announcements and knowledge-base answers. */
export const content = Object.freeze({ announcements: rawContent.announcements, kbAnswer: rawContent.kbAnswer });
/** Structured logging into the host's per-call trace. */
export const log = Object.freeze({
  debug: (m) => rawLog.log('debug', m), info: (m) => rawLog.log('info', m),
  warn: (m) => rawLog.log('warn', m), error: (m) => rawLog.log('error', m),
});
/** Spoken default names of fee types. */
export const FEE_NAMES_ZH = Object.freeze({
  property: '物业费', water: '水费', electricity: '电费', gas: '燃气费', parking: '停车费', other: '其他费用',
});

/** The configuration JSON given at install ("{}" when none). */
export const rawConfigText = () => rawConfig.get();
/** The configuration document parsed from JSON. */
export const config = () => JSON.parse(rawConfig.get() || '{}');

// ---------------------------------------------------------------- exports

function check(checkConfig) {
  let cfg;
  try { cfg = config(); } catch (e) { throw `configuration is not valid JSON: ${e.message}`; }
  if (!checkConfig) return;
  let problem;
  try { problem = checkConfig(cfg); } catch (e) { throw String(e && e.message ? e.message : e); }
  if (typeof problem === 'string' && problem) throw problem; // other return values: valid
}

function guard(body, onHangup) {
  try {
    return body();
  } catch (e) {
    if (e instanceof Hangup) return onHangup();
    if (e instanceof FlowError) { log.error(e.message); throw e.message; }
    // A bug: leave the stack in the call trace, then trap (the host applies the failure policy).
    log.error(`uncaught exception: ${e && e.stack ? `${e}\n${e.stack}` : String(e)}`);
    console.error(`uncaught ${e}`);
    throw e;
  }
}

/** The exports of world `inbound-flow`: `export const { checkConfig, handleCall } = inbound(fn, check)`.
 * `handleCall(call)` runs the call; `checkConfig(cfg)` returns/throws a problem for a bad config. */
export function inbound(handleCall, checkConfig) {
  return {
    checkConfig: () => check(checkConfig),
    handleCall: () => { const call = Call.current(); guard(() => handleCall(call), () => undefined); },
  };
}

/** The exports of world `outbound-flow`: `onAnswer(call, target)` returns the outcome string; a
 * hang-up yields `hangupOutcome`. */
export function outbound(onAnswer, checkConfig, hangupOutcome = 'hangup') {
  return {
    checkConfig: () => check(checkConfig),
    onAnswer: (target) => { const call = Call.current(); return guard(() => onAnswer(call, target), () => hangupOutcome); },
  };
}
