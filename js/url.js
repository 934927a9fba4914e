// URL and URLSearchParams after the WHATWG URL standard, small: special schemes (http,
// https, ws, wss, ftp, file) and opaque ones, relative resolution, dot segments, default
// ports, percent-encoding sets, IPv6 hosts kept as written (lowercased). Not covered:
// IDNA (non-ASCII hosts are percent-encoded, not punycoded) and IPv4 number forms.
// Installed as globals by runtime.js.

const SPECIAL = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': '' };

const C0 = (c) => c <= 0x20 || c >= 0x7f;
const FRAGMENT = new Set(' "<>`');
const QUERY = new Set(' "#<>');
const SPECIAL_QUERY = new Set(' "#<>\'');
const PATH = new Set(' "#<>?`{}');
const USERINFO = new Set(' "#<>?`{}/:;=@[\\]^|');

function encodeChar(ch) {
	try {
		return encodeURIComponent(ch);
	} catch {
		return '%EF%BF%BD';
	}
}

function encode(text, set) {
	let out = '';
	for (const ch of text) {
		const c = ch.codePointAt(0);
		if (c > 0x7e) out += encodeChar(ch);
		else if (c < 0x20 || c === 0x7f || set.has(ch)) out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
		else out += ch;
	}
	return out;
}

function invalid(input) {
	return new TypeError(`Invalid URL: ${input}`);
}

function parseHost(text, special, input) {
	if (text.startsWith('[')) {
		if (!text.endsWith(']') || !/^\[[0-9a-fA-F:.]+\]$/.test(text)) throw invalid(input);
		return text.toLowerCase();
	}
	if (!special) return encode(text, new Set(' #/<>?@[\\]^|'));
	let host;
	try {
		host = decodeURIComponent(text);
	} catch {
		throw invalid(input);
	}
	if (/[\0\t\n\r #%/:<>?@[\\\]^|]/.test(host)) throw invalid(input);
	host = host.toLowerCase();
	return /^[\x00-\x7f]*$/.test(host) ? host : encode(host, new Set());
}

function normalizePath(segments, special) {
	const out = [];
	for (let i = 0; i < segments.length; i++) {
		const seg = segments[i];
		const last = i === segments.length - 1;
		const lower = seg.toLowerCase();
		if (seg === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e') {
			out.pop();
			if (last) out.push('');
		} else if (seg === '.' || lower === '%2e') {
			if (last) out.push('');
		} else {
			out.push(encode(seg, PATH));
		}
	}
	return special || out.length ? '/' + out.join('/') : '';
}

/** Parses `input` against `base` (a parsed record) into a record of the URL's parts. */
function parse(input, base) {
	let s = String(input)
		.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '')
		.replace(/[\t\n\r]/g, '');
	const r = { protocol: '', username: '', password: '', hostname: '', port: '', pathname: '', search: '', hash: '', opaque: false, hasHost: false };
	const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
	let rest;
	if (m) {
		r.protocol = m[1].toLowerCase() + ':';
		rest = s.slice(m[0].length);
	} else {
		if (!base) throw invalid(input);
		r.protocol = base.protocol;
		rest = s;
	}
	const special = r.protocol in SPECIAL;
	if (special) rest = rest.replace(/\\/g, '/');
	// Split off hash and query.
	const hashAt = rest.indexOf('#');
	if (hashAt >= 0) {
		r.hash = '#' + encode(rest.slice(hashAt + 1), FRAGMENT);
		rest = rest.slice(0, hashAt);
	}
	const queryAt = rest.indexOf('?');
	let query = null;
	if (queryAt >= 0) {
		query = rest.slice(queryAt + 1);
		r.search = '?' + encode(query, special ? SPECIAL_QUERY : QUERY);
		rest = rest.slice(0, queryAt);
	}
	if (r.search === '?') r.search = '';
	if (r.hash === '#') r.hash = '';

	const relative = !m || (special && base && base.protocol === r.protocol && !rest.startsWith('/'));
	if (relative && !m) {
		if (base.opaque && (s.length === 0 || s[0] !== '#')) throw invalid(input);
	}
	if (relative && !rest.startsWith('//')) {
		if (!base) throw invalid(input);
		Object.assign(r, { username: base.username, password: base.password, hostname: base.hostname, port: base.port, hasHost: base.hasHost, opaque: base.opaque });
		if (rest === '') {
			r.pathname = base.pathname;
			if (queryAt < 0) r.search = base.search;
		} else if (rest.startsWith('/')) {
			r.pathname = normalizePath(rest.slice(1).split('/'), special);
		} else {
			const dir = base.pathname.split('/').slice(1, -1);
			r.pathname = normalizePath([...dir, ...rest.split('/')], special);
		}
		return r;
	}
	if (special && r.protocol !== 'file:') rest = '//' + rest.replace(/^\/*/, '');
	if (rest.startsWith('//')) {
		rest = rest.slice(2);
		const end = rest.indexOf('/');
		let authority = end >= 0 ? rest.slice(0, end) : rest;
		rest = end >= 0 ? rest.slice(end) : '';
		const at = authority.lastIndexOf('@');
		if (at >= 0) {
			const info = authority.slice(0, at);
			authority = authority.slice(at + 1);
			const colon = info.indexOf(':');
			r.username = encode(colon >= 0 ? info.slice(0, colon) : info, USERINFO);
			r.password = colon >= 0 ? encode(info.slice(colon + 1), USERINFO) : '';
		}
		const portMatch = /:(\d*)$/.exec(authority);
		if (portMatch && !authority.endsWith(']')) {
			authority = authority.slice(0, portMatch.index);
			if (portMatch[1] !== '') {
				const port = Number(portMatch[1]);
				if (port > 65535) throw invalid(input);
				r.port = String(port) === SPECIAL[r.protocol] ? '' : String(port);
			}
		} else if (/:[^\]]*$/.test(authority) && !authority.startsWith('[')) {
			throw invalid(input);
		}
		r.hostname = parseHost(authority, special, input);
		if (special && r.protocol !== 'file:' && r.hostname === '') throw invalid(input);
		if (r.protocol === 'file:' && r.hostname === 'localhost') r.hostname = '';
		r.hasHost = true;
		r.pathname = rest === '' ? (special ? '/' : '') : normalizePath(rest.slice(1).split('/'), special);
		return r;
	}
	if (special || rest.startsWith('/')) {
		r.pathname = normalizePath(rest.replace(/^\//, '').split('/'), special);
		if (r.protocol === 'file:') r.hasHost = true;
		return r;
	}
	r.opaque = true;
	r.pathname = encode(rest, new Set());
	return r;
}

const records = new WeakMap();

export class URL {
	#r;
	#params = null;
	constructor(url, base) {
		const baseRecord = base === undefined ? undefined : base instanceof URL ? records.get(base) : parse(base);
		this.#r = parse(url, baseRecord);
		records.set(this, this.#r);
	}
	static canParse(url, base) {
		try {
			new URL(url, base);
			return true;
		} catch {
			return false;
		}
	}
	static parse(url, base) {
		try {
			return new URL(url, base);
		} catch {
			return null;
		}
	}
	get href() {
		const r = this.#r;
		let out = r.protocol;
		if (r.hasHost) {
			out += '//';
			if (r.username || r.password) out += r.username + (r.password ? ':' + r.password : '') + '@';
			out += r.hostname + (r.port ? ':' + r.port : '');
		} else if (!r.opaque && r.pathname.startsWith('//')) {
			out += '/.';
		}
		return out + r.pathname + r.search + r.hash;
	}
	set href(value) {
		this.#r = parse(value);
		records.set(this, this.#r);
		this.#params?._reset(this.#r.search);
	}
	get origin() {
		const r = this.#r;
		return r.protocol in SPECIAL && r.protocol !== 'file:' ? `${r.protocol}//${this.host}` : 'null';
	}
	get protocol() {
		return this.#r.protocol;
	}
	set protocol(value) {
		const p = String(value).replace(/:.*$/, '').toLowerCase() + ':';
		if ((p in SPECIAL) !== (this.#r.protocol in SPECIAL) || !/^[a-z][a-z0-9+.-]*:$/.test(p)) return;
		this.#r.protocol = p;
		if (this.#r.port === SPECIAL[p]) this.#r.port = '';
	}
	get username() {
		return this.#r.username;
	}
	set username(value) {
		if (this.#r.hasHost && this.#r.hostname) this.#r.username = encode(String(value), USERINFO);
	}
	get password() {
		return this.#r.password;
	}
	set password(value) {
		if (this.#r.hasHost && this.#r.hostname) this.#r.password = encode(String(value), USERINFO);
	}
	get host() {
		return this.#r.hostname + (this.#r.port ? ':' + this.#r.port : '');
	}
	set host(value) {
		if (this.#r.opaque) return;
		try {
			const r = parse(`${this.#r.protocol}//${value}`);
			this.#r.hostname = r.hostname;
			this.#r.port = r.port;
		} catch {}
	}
	get hostname() {
		return this.#r.hostname;
	}
	set hostname(value) {
		if (this.#r.opaque) return;
		try {
			this.#r.hostname = parse(`${this.#r.protocol}//${value}`).hostname;
		} catch {}
	}
	get port() {
		return this.#r.port;
	}
	set port(value) {
		const digits = /^\d*/.exec(String(value))[0];
		if (digits === '') {
			if (String(value) === '') this.#r.port = '';
			return;
		}
		const port = Number(digits);
		if (port <= 65535) this.#r.port = String(port) === SPECIAL[this.#r.protocol] ? '' : String(port);
	}
	get pathname() {
		return this.#r.pathname;
	}
	set pathname(value) {
		if (this.#r.opaque) return;
		const special = this.#r.protocol in SPECIAL;
		let v = String(value);
		if (special) v = v.replace(/\\/g, '/');
		this.#r.pathname = normalizePath(v.replace(/^\//, '').split('/'), special);
	}
	get search() {
		return this.#r.search;
	}
	set search(value) {
		let v = String(value);
		if (v.startsWith('?')) v = v.slice(1);
		this.#r.search = v === '' ? '' : '?' + encode(v, this.#r.protocol in SPECIAL ? SPECIAL_QUERY : QUERY);
		this.#params?._reset(this.#r.search);
	}
	get searchParams() {
		if (!this.#params) {
			this.#params = new URLSearchParams(this.#r.search);
			this.#params._owner = (query) => {
				this.#r.search = query ? '?' + query : '';
			};
		}
		return this.#params;
	}
	get hash() {
		return this.#r.hash;
	}
	set hash(value) {
		let v = String(value);
		if (v.startsWith('#')) v = v.slice(1);
		this.#r.hash = v === '' ? '' : '#' + encode(v, FRAGMENT);
	}
	toString() {
		return this.href;
	}
	toJSON() {
		return this.href;
	}
}

function formEncode(text) {
	let out = '';
	for (const ch of String(text)) {
		if (/^[A-Za-z0-9*\-._]$/.test(ch)) out += ch;
		else if (ch === ' ') out += '+';
		else out += encodeChar(ch).replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
	}
	return out;
}

function formDecode(text) {
	const s = text.replace(/\+/g, ' ');
	// Lenient like the standard: a bad escape stays as written.
	return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
		try {
			return decodeURIComponent(run);
		} catch {
			const bytes = run.split('%').slice(1).map((h) => parseInt(h, 16));
			return new TextDecoder().decode(new Uint8Array(bytes));
		}
	});
}

export class URLSearchParams {
	#list = [];
	_owner = null;
	constructor(init = '') {
		if (init instanceof URLSearchParams) {
			this.#list = init.#list.map(([k, v]) => [k, v]);
		} else if (init !== null && typeof init === 'object') {
			if (typeof init[Symbol.iterator] === 'function') {
				for (const pair of init) {
					const items = [...pair];
					if (items.length !== 2) throw new TypeError("Each query pair must be an iterable [name, value] tuple");
					this.#list.push([String(items[0]), String(items[1])]);
				}
			} else {
				for (const key of Object.keys(init)) this.#list.push([key, String(init[key])]);
			}
		} else {
			this._reset(String(init));
		}
	}
	_reset(query) {
		const s = query.startsWith('?') ? query.slice(1) : query;
		this.#list = s
			.split('&')
			.filter((p) => p !== '')
			.map((p) => {
				const eq = p.indexOf('=');
				return eq >= 0 ? [formDecode(p.slice(0, eq)), formDecode(p.slice(eq + 1))] : [formDecode(p), ''];
			});
	}
	#update() {
		this._owner?.(this.toString());
	}
	get size() {
		return this.#list.length;
	}
	append(name, value) {
		this.#list.push([String(name), String(value)]);
		this.#update();
	}
	delete(name, value) {
		this.#list = this.#list.filter(([k, v]) => k !== String(name) || (value !== undefined && v !== String(value)));
		this.#update();
	}
	get(name) {
		return this.#list.find(([k]) => k === String(name))?.[1] ?? null;
	}
	getAll(name) {
		return this.#list.filter(([k]) => k === String(name)).map(([, v]) => v);
	}
	has(name, value) {
		return this.#list.some(([k, v]) => k === String(name) && (value === undefined || v === String(value)));
	}
	set(name, value) {
		const n = String(name);
		const i = this.#list.findIndex(([k]) => k === n);
		if (i < 0) this.#list.push([n, String(value)]);
		else {
			this.#list[i][1] = String(value);
			this.#list = this.#list.filter(([k], j) => k !== n || j === i);
		}
		this.#update();
	}
	sort() {
		// Stable, by UTF-16 code units.
		this.#list = this.#list
			.map((e, i) => [e, i])
			.sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j))
			.map(([e]) => e);
		this.#update();
	}
	forEach(fn, thisArg) {
		for (const [k, v] of this.#list) fn.call(thisArg, v, k, this);
	}
	*entries() {
		for (const [k, v] of this.#list) yield [k, v];
	}
	*keys() {
		for (const [k] of this.#list) yield k;
	}
	*values() {
		for (const [, v] of this.#list) yield v;
	}
	[Symbol.iterator]() {
		return this.entries();
	}
	toString() {
		return this.#list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&');
	}
}
