// The standard runtime of an engine instance, the same set and behaviour in QuickJS and
// V8: console, timers, queueMicrotask, structuredClone, Event/EventTarget, AbortController,
// DOMException, URL/URLSearchParams, TextEncoder/TextDecoder, atob/btoa, crypto
// (randomUUID, getRandomValues) and performance.now. Imported first by ssr-host.js, so it
// runs before any template module and before the built-ins guard (src/engine/guard.js).
//
// Only three things come from Rust, as `globalThis.__fymoNative` (installed by each engine
// before the bundle): `log(level, template, message)`, `now()` (ms, monotonic) and
// `random(bytes: Uint8Array)`. Everything else is plain JavaScript. Anything the engine
// already has in a standard form is replaced all the same where behaviour could differ
// (console, timers, queueMicrotask, structuredClone), so both engines act alike.

const native = globalThis.__fymoNative ?? {
	log() {},
	now: () => Date.now(),
	random(bytes) {
		for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
	}
};
delete globalThis.__fymoNative;

const define = (name, value) =>
	Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

/** The template being rendered, named in console output (set by ssr-host.js). */
export const current = { template: null };

// ---------------------------------------------------------------- console

function inspect(value, depth = 0, seen = new Set()) {
	switch (typeof value) {
		case 'string':
			return depth ? JSON.stringify(value) : value;
		case 'function':
			return `[Function: ${value.name || '(anonymous)'}]`;
		case 'symbol':
		case 'bigint':
			return value.toString() + (typeof value === 'bigint' ? 'n' : '');
		case 'undefined':
			return 'undefined';
		case 'object':
			break;
		default:
			return String(value);
	}
	if (value === null) return 'null';
	if (value instanceof Error) return value.stack && depth === 0 ? `${value}\n${value.stack}`.trim() : String(value);
	if (seen.has(value)) return '[Circular]';
	if (depth > 3) return Array.isArray(value) ? '[Array]' : '[Object]';
	seen.add(value);
	try {
		if (Array.isArray(value)) return `[ ${value.map((v) => inspect(v, depth + 1, seen)).join(', ')} ]`;
		if (value instanceof Map)
			return `Map(${value.size}) { ${[...value].map(([k, v]) => `${inspect(k, depth + 1, seen)} => ${inspect(v, depth + 1, seen)}`).join(', ')} }`;
		if (value instanceof Set) return `Set(${value.size}) { ${[...value].map((v) => inspect(v, depth + 1, seen)).join(', ')} }`;
		if (value instanceof Date) return isNaN(value) ? 'Invalid Date' : value.toISOString();
		if (value instanceof RegExp) return String(value);
		const entries = Object.keys(value).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inspect(value[k], depth + 1, seen)}`);
		return entries.length ? `{ ${entries.join(', ')} }` : '{}';
	} finally {
		seen.delete(value);
	}
}

function format(args) {
	let out = '';
	let rest = args;
	if (typeof args[0] === 'string' && args[0].includes('%')) {
		let i = 1;
		out = args[0].replace(/%([sdifoOjc%])/g, (m, c) => {
			if (c === '%') return '%';
			if (i >= args.length) return m;
			const v = args[i++];
			if (c === 's') return typeof v === 'string' ? v : inspect(v, 1);
			if (c === 'd' || c === 'i') return String(c === 'i' ? parseInt(v) : Number(v));
			if (c === 'f') return String(parseFloat(v));
			if (c === 'c') return '';
			return inspect(v, 1);
		});
		rest = args.slice(i);
		return [out, ...rest.map((v) => inspect(v))].join(' ');
	}
	return rest.map((v) => inspect(v)).join(' ');
}

const counts = new Map();
const timings = new Map();
const log = (level) => (...args) => native.log(level, current.template ?? '', format(args));
const console = {
	log: log('info'),
	info: log('info'),
	debug: log('debug'),
	trace: log('debug'),
	warn: log('warn'),
	error: log('error'),
	dir: (v) => native.log('info', current.template ?? '', inspect(v)),
	table: log('info'),
	assert: (ok, ...args) => {
		if (!ok) native.log('error', current.template ?? '', 'Assertion failed' + (args.length ? ': ' + format(args) : ''));
	},
	count: (label = 'default') => {
		counts.set(label, (counts.get(label) ?? 0) + 1);
		native.log('info', current.template ?? '', `${label}: ${counts.get(label)}`);
	},
	countReset: (label = 'default') => counts.delete(label),
	time: (label = 'default') => timings.set(label, native.now()),
	timeEnd: (label = 'default') => {
		const start = timings.get(label);
		timings.delete(label);
		if (start !== undefined) native.log('info', current.template ?? '', `${label}: ${(native.now() - start).toFixed(3)}ms`);
	},
	group: log('info'),
	groupEnd: () => {}
};
define('console', console);

// ---------------------------------------------------------------- timers and microtasks

const timers = new Map(); // id -> { due, seq, fn, args, interval }
let nextId = 1;
let seq = 0;

function addTimer(fn, delay, args, interval) {
	if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
	// Node clamps to at least 1 ms.
	const ms = Math.max(1, Number(delay) || 0);
	const id = nextId++;
	timers.set(id, { due: native.now() + ms, seq: seq++, fn, args, interval: interval ? ms : 0 });
	return id;
}
const clear = (id) => {
	timers.delete(typeof id === 'object' && id !== null ? Number(id) : id);
};
define('setTimeout', (fn, delay, ...args) => addTimer(fn, delay, args, false));
define('setInterval', (fn, delay, ...args) => addTimer(fn, delay, args, true));
define('clearTimeout', clear);
define('clearInterval', clear);
define('queueMicrotask', (fn) => {
	if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
	Promise.resolve().then(() => fn());
});

/** The earliest timer, or undefined. */
function earliest() {
	let first;
	for (const [id, t] of timers) {
		if (!first || t.due < first[1].due || (t.due === first[1].due && t.seq < first[1].seq)) first = [id, t];
	}
	return first;
}

export const timerQueue = {
	/**
	 * Fires the earliest timer if it is due and returns 0; else the ms until it is due,
	 * or -1 when there is none.
	 */
	step() {
		const first = earliest();
		if (!first) return -1;
		const [id, t] = first;
		const wait = t.due - native.now();
		if (wait > 0) return wait;
		if (t.interval) {
			// Like Node: the next run counts from this one.
			t.due = native.now() + t.interval;
			t.seq = seq++;
		} else {
			timers.delete(id);
		}
		try {
			t.fn(...t.args);
		} catch (e) {
			console.error('Uncaught exception in a timer:', e);
		}
		return 0;
	},
	/** Forgets every timer (a finished render's leftovers must not fire in the next). */
	clear() {
		timers.clear();
	}
};

// ---------------------------------------------------------------- DOMException, Event, EventTarget

const DOM_CODES = { IndexSizeError: 1, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidCharacterError: 5, AbortError: 20, TimeoutError: 23, DataCloneError: 25 };
class DOMException extends Error {
	#name;
	constructor(message = '', name = 'Error') {
		super(message);
		this.#name = String(name);
	}
	get name() {
		return this.#name;
	}
	get code() {
		return DOM_CODES[this.#name] ?? 0;
	}
}
define('DOMException', DOMException);

class Event {
	#type;
	#bubbles;
	#cancelable;
	#composed;
	#canceled = false;
	#stopped = false;
	#timeStamp = native.now();
	target = null;
	currentTarget = null;
	constructor(type, init = {}) {
		if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required");
		this.#type = String(type);
		this.#bubbles = !!init.bubbles;
		this.#cancelable = !!init.cancelable;
		this.#composed = !!init.composed;
	}
	get type() {
		return this.#type;
	}
	get bubbles() {
		return this.#bubbles;
	}
	get cancelable() {
		return this.#cancelable;
	}
	get composed() {
		return this.#composed;
	}
	get defaultPrevented() {
		return this.#canceled;
	}
	get timeStamp() {
		return this.#timeStamp;
	}
	get eventPhase() {
		return this.currentTarget ? 2 : 0;
	}
	preventDefault() {
		if (this.#cancelable) this.#canceled = true;
	}
	stopPropagation() {}
	stopImmediatePropagation() {
		this.#stopped = true;
	}
	get _stopped() {
		return this.#stopped;
	}
}
class CustomEvent extends Event {
	#detail;
	constructor(type, init = {}) {
		super(type, init);
		this.#detail = init.detail ?? null;
	}
	get detail() {
		return this.#detail;
	}
}

class EventTarget {
	#listeners = new Map(); // type -> [{ fn, capture, once }]
	addEventListener(type, fn, options = {}) {
		if (fn == null) return;
		const opts = typeof options === 'boolean' ? { capture: options } : options ?? {};
		if (opts.signal?.aborted) return;
		const list = this.#listeners.get(type) ?? [];
		const capture = !!opts.capture;
		if (list.some((l) => l.fn === fn && l.capture === capture)) return;
		const entry = { fn, capture, once: !!opts.once };
		list.push(entry);
		this.#listeners.set(type, list);
		opts.signal?.addEventListener('abort', () => this.removeEventListener(type, fn, opts));
	}
	removeEventListener(type, fn, options = {}) {
		const capture = typeof options === 'boolean' ? options : !!options?.capture;
		const list = this.#listeners.get(type);
		if (!list) return;
		const i = list.findIndex((l) => l.fn === fn && l.capture === capture);
		if (i >= 0) {
			list[i].removed = true;
			list.splice(i, 1);
		}
	}
	dispatchEvent(event) {
		if (!(event instanceof Event)) throw new TypeError("parameter 1 is not of type 'Event'");
		event.target = this;
		event.currentTarget = this;
		for (const l of [...(this.#listeners.get(event.type) ?? [])]) {
			if (l.removed) continue;
			if (l.once) this.removeEventListener(event.type, l.fn, l);
			try {
				if (typeof l.fn === 'function') l.fn.call(this, event);
				else l.fn.handleEvent(event);
			} catch (e) {
				console.error('Uncaught exception in an event listener:', e);
			}
			if (event._stopped) break;
		}
		event.currentTarget = null;
		return !event.defaultPrevented;
	}
}
define('Event', Event);
define('CustomEvent', CustomEvent);
define('EventTarget', EventTarget);

// ---------------------------------------------------------------- AbortController

const kAbort = Symbol('abort');
class AbortSignal extends EventTarget {
	#aborted = false;
	#reason = undefined;
	onabort = null;
	constructor(key) {
		if (key !== kAbort) throw new TypeError('Illegal constructor');
		super();
	}
	get aborted() {
		return this.#aborted;
	}
	get reason() {
		return this.#reason;
	}
	throwIfAborted() {
		if (this.#aborted) throw this.#reason;
	}
	[kAbort](reason) {
		if (this.#aborted) return;
		this.#aborted = true;
		this.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
		const event = new Event('abort');
		if (typeof this.onabort === 'function') this.onabort.call(this, event);
		this.dispatchEvent(event);
	}
	static abort(reason) {
		const signal = new AbortSignal(kAbort);
		signal[kAbort](reason);
		return signal;
	}
	static timeout(ms) {
		const signal = new AbortSignal(kAbort);
		setTimeout(() => signal[kAbort](new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
		return signal;
	}
	static any(signals) {
		const signal = new AbortSignal(kAbort);
		for (const s of signals) {
			if (s.aborted) {
				signal[kAbort](s.reason);
				return signal;
			}
		}
		for (const s of signals) s.addEventListener('abort', () => signal[kAbort](s.reason), { once: true });
		return signal;
	}
}
class AbortController {
	#signal = new AbortSignal(kAbort);
	get signal() {
		return this.#signal;
	}
	abort(reason) {
		this.#signal[kAbort](reason);
	}
}
define('AbortSignal', AbortSignal);
define('AbortController', AbortController);

// ---------------------------------------------------------------- structuredClone

function structuredClone(value, options) {
	const seen = new Map();
	const fail = (what) => {
		throw new DOMException(`${what} could not be cloned.`, 'DataCloneError');
	};
	const clone = (v) => {
		if (typeof v === 'function') fail(String(v).split('\n')[0].slice(0, 60) || 'function');
		if (typeof v === 'symbol') fail(String(v));
		if (typeof v !== 'object' || v === null) return v;
		if (seen.has(v)) return seen.get(v);
		let out;
		const tag = Object.prototype.toString.call(v).slice(8, -1);
		switch (tag) {
			case 'Boolean':
			case 'Number':
			case 'String':
			case 'BigInt':
				out = Object(v.valueOf());
				seen.set(v, out);
				return out;
			case 'Date':
				out = new Date(v.getTime());
				seen.set(v, out);
				return out;
			case 'RegExp':
				out = new RegExp(v.source, v.flags);
				seen.set(v, out);
				return out;
			case 'ArrayBuffer':
				out = v.slice(0);
				seen.set(v, out);
				return out;
			case 'DataView':
				out = new DataView(clone(v.buffer), v.byteOffset, v.byteLength);
				seen.set(v, out);
				return out;
			case 'Map':
				out = new Map();
				seen.set(v, out);
				for (const [k, x] of v) out.set(clone(k), clone(x));
				return out;
			case 'Set':
				out = new Set();
				seen.set(v, out);
				for (const x of v) out.add(clone(x));
				return out;
			case 'Error': {
				const names = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'];
				const Ctor = globalThis[names.includes(v.name) ? v.name : 'Error'];
				out = new Ctor(v.message);
				seen.set(v, out);
				if ('stack' in v) Object.defineProperty(out, 'stack', { value: v.stack, writable: true, configurable: true });
				if ('cause' in v) out.cause = clone(v.cause);
				return out;
			}
			case 'Array':
				out = new Array(v.length);
				seen.set(v, out);
				for (const k of Object.keys(v)) out[k] = clone(v[k]);
				return out;
			case 'Object':
				break;
			default:
				if (ArrayBuffer.isView(v)) {
					out = new v.constructor(clone(v.buffer), v.byteOffset, v.length);
					seen.set(v, out);
					return out;
				}
				if (v instanceof Error) break;
				if (typeof v === 'object' && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null && tag !== 'Object') {
					fail(`#<${v.constructor?.name ?? tag}>`);
				}
		}
		out = {};
		seen.set(v, out);
		for (const k of Object.keys(v)) out[k] = clone(v[k]);
		return out;
	};
	if (options?.transfer?.length) fail('Transfer');
	return clone(value);
}
define('structuredClone', structuredClone);

// ---------------------------------------------------------------- TextEncoder, TextDecoder, atob, btoa

class TextEncoder {
	get encoding() {
		return 'utf-8';
	}
	encode(input = '') {
		const s = String(input);
		const out = [];
		for (let i = 0; i < s.length; i++) {
			let c = s.charCodeAt(i);
			if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
				const d = s.charCodeAt(i + 1);
				if (d >= 0xdc00 && d <= 0xdfff) {
					c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
					i++;
				} else c = 0xfffd;
			} else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
			if (c < 0x80) out.push(c);
			else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
			else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
			else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
		}
		return new Uint8Array(out);
	}
	encodeInto(input, dest) {
		const s = String(input);
		let read = 0;
		let written = 0;
		for (const ch of s) {
			const bytes = this.encode(ch);
			if (written + bytes.length > dest.length) break;
			dest.set(bytes, written);
			written += bytes.length;
			read += ch.length;
		}
		return { read, written };
	}
}

class TextDecoder {
	#fatal;
	#ignoreBOM;
	constructor(label = 'utf-8', options = {}) {
		const l = String(label).trim().toLowerCase();
		if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') throw new RangeError(`The "${label}" encoding is not supported`);
		this.#fatal = !!options.fatal;
		this.#ignoreBOM = !!options.ignoreBOM;
	}
	get encoding() {
		return 'utf-8';
	}
	get fatal() {
		return this.#fatal;
	}
	get ignoreBOM() {
		return this.#ignoreBOM;
	}
	decode(input) {
		if (input === undefined) return '';
		const b = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
		let out = '';
		let i = 0;
		if (!this.#ignoreBOM && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
		const bad = () => {
			if (this.#fatal) throw new TypeError('The encoded data was not valid for encoding utf-8');
			return 0xfffd;
		};
		const chunk = [];
		const flush = () => {
			out += String.fromCodePoint(...chunk);
			chunk.length = 0;
		};
		while (i < b.length) {
			const c = b[i];
			let cp;
			let need = 0;
			let min = 0;
			if (c < 0x80) {
				cp = c;
			} else if (c >= 0xc2 && c <= 0xdf) {
				cp = c & 0x1f;
				need = 1;
				min = 0x80;
			} else if (c >= 0xe0 && c <= 0xef) {
				cp = c & 0x0f;
				need = 2;
				min = 0x800;
			} else if (c >= 0xf0 && c <= 0xf4) {
				cp = c & 0x07;
				need = 3;
				min = 0x10000;
			} else {
				chunk.push(bad());
				i++;
				continue;
			}
			let j = 1;
			for (; j <= need; j++) {
				const d = b[i + j];
				if (d === undefined || (d & 0xc0) !== 0x80) break;
				cp = (cp << 6) | (d & 0x3f);
			}
			if (j <= need || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
				chunk.push(bad());
				i += Math.max(1, j);
				continue;
			}
			chunk.push(cp);
			i += need + 1;
			if (chunk.length > 4096) flush();
		}
		flush();
		return out;
	}
}
define('TextEncoder', TextEncoder);
define('TextDecoder', TextDecoder);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
define('btoa', function btoa(input) {
	if (arguments.length === 0) throw new TypeError('1 argument required');
	const s = String(input);
	let out = '';
	for (let i = 0; i < s.length; i += 3) {
		const a = s.charCodeAt(i);
		const b = s.charCodeAt(i + 1);
		const c = s.charCodeAt(i + 2);
		if (a > 255 || b > 255 || c > 255) throw new DOMException('Invalid character', 'InvalidCharacterError');
		const n = (a << 16) | ((b || 0) << 8) | (c || 0);
		out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=');
	}
	return out;
});
define('atob', function atob(input) {
	if (arguments.length === 0) throw new TypeError('1 argument required');
	let s = String(input).replace(/[\t\n\f\r ]/g, '');
	if (s.length % 4 === 0) s = s.replace(/==?$/, '');
	if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw new DOMException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
	let out = '';
	let bits = 0;
	let acc = 0;
	for (const ch of s) {
		acc = (acc << 6) | B64.indexOf(ch);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out += String.fromCharCode((acc >> bits) & 255);
		}
	}
	return out;
});

// ---------------------------------------------------------------- crypto, performance

const crypto = {
	getRandomValues(array) {
		if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
			throw new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
		}
		if (array.byteLength > 65536) throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, 'QuotaExceededError');
		native.random(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
		return array;
	},
	randomUUID() {
		const b = new Uint8Array(16);
		native.random(b);
		b[6] = (b[6] & 0x0f) | 0x40;
		b[8] = (b[8] & 0x3f) | 0x80;
		const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
		return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
	}
};
define('crypto', crypto);

const timeOrigin = Date.now() - native.now();
define('performance', {
	now: () => native.now(),
	get timeOrigin() {
		return timeOrigin;
	}
});

// ---------------------------------------------------------------- URL, URLSearchParams

import { URL, URLSearchParams } from './url.js';
define('URL', URL);
define('URLSearchParams', URLSearchParams);
