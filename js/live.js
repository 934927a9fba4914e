// Live pages, in the browser: one WebSocket per tab to /_fymo/live (Server-Sent Events
// when WebSockets fail), following the topics the page was rendered with from the
// positions it was rendered at. Patches merge into the page's (reactive) props; events go
// to `live.on(name, fn)`; `live.call(action, args)` calls the page's controller.
// Reconnects with back-off and jitter and resumes from the last position seen.
// The page's topic signature (`EXPIRES.MAC`, bound to the session) is renewed by the
// server while connected; one that ran out is replaced by refetching the props.
//
// In a component:  const live = getContext('fymo:live');
//                  $effect(() => live.on('message', (data) => ...));

export const LIVE_KEY = 'fymo:live';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386 merge patch, in place (so reactive proxies notify what changed). */
export function mergePatch(target, patch) {
	for (const [key, value] of Object.entries(patch)) {
		if (value === null) delete target[key];
		else if (isObject(value) && isObject(target[key])) mergePatch(target[key], value);
		else target[key] = value;
	}
}

/**
 * @param {Record<string, any>} props the page's reactive props
 * @param {(o: object) => any} reactive makes a reactive object
 */
export function connectLive(props, reactive) {
	const handlers = new Map();
	const pending = new Map();
	const positions = new Map();
	const state = reactive({ connected: false, transport: null, presence: {} });
	let info = null;
	let page = location.pathname + location.search;
	let ws = null;
	let es = null;
	let attempt = 0;
	let failures = 0;
	let useSse = typeof WebSocket === 'undefined';
	let nextId = 1;
	let heard = Date.now();
	let hb = 20000;
	let timer = null;
	let watchdog = null;
	let closed = false;
	const outbox = [];

	const emit = (name, ...args) => {
		for (const fn of handlers.get(name) ?? []) {
			try {
				fn(...args);
			} catch (e) {
				console.error(e);
			}
		}
	};

	function setPage(props) {
		info = props?.fymo?.live ?? null;
		for (const [topic, seq] of Object.entries(info?.topics ?? {})) {
			if (!(positions.get(topic) >= seq)) positions.set(topic, seq);
		}
		for (const topic of [...positions.keys()]) if (!(topic in (info?.topics ?? {}))) positions.delete(topic);
	}

	const subFrame = () => ({
		t: 'sub',
		page,
		topics: Object.fromEntries(positions),
		sig: info?.sig ?? '',
		csrf: props?.fymo?.csrf ?? ''
	});

	/** The page's props (and its live topics and signature) fetched anew. */
	async function reloadProps() {
		const res = await fetch(page, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
		if (!res.ok) throw new Error(`${res.status}`);
		const data = await res.json();
		for (const key of Object.keys(props)) if (!(key in data.props)) delete props[key];
		for (const [key, value] of Object.entries(data.props)) props[key] = value;
		setPage(data.props);
	}

	const sigExpired = () => Number(String(info?.sig ?? '').split('.')[0]) * 1000 <= Date.now();
	/** Whether two lists name the same topics (each sorted once). */
	const sameTopics = (a, b) => {
		const [x, y] = [[...a].sort(), [...b].sort()];
		return x.length === y.length && x.every((t, i) => t === y[i]);
	};

	async function refetch(topic, seq) {
		try {
			await reloadProps();
			if (!(positions.get(topic) >= seq)) positions.set(topic, seq);
			emit('refetch', topic);
		} catch (e) {
			console.warn('fymo live: refetching props failed; reloading', e);
			location.reload();
		}
	}

	function onFrame(msg) {
		heard = Date.now();
		switch (msg.t) {
			case 'hello':
				hb = msg.hb || hb;
				attempt = 0;
				failures = 0;
				state.connected = true;
				while (outbox.length) send(outbox.shift());
				emit('connect');
				break;
			case 'ev': {
				if (positions.get(msg.topic) >= msg.seq) break; // already have it
				positions.set(msg.topic, msg.seq);
				if (msg.patch !== undefined) {
					if (isObject(msg.patch)) mergePatch(props, msg.patch);
					emit('patch', msg.patch, msg);
				} else {
					emit(msg.event, msg.data, msg);
				}
				break;
			}
			case 'stale':
				refetch(msg.topic, msg.seq);
				break;
			case 'presence':
				state.presence[msg.topic] = { members: msg.members, count: msg.count };
				emit('presence', state.presence[msg.topic], msg.topic);
				break;
			case 'reply': {
				const call = pending.get(msg.id);
				pending.delete(msg.id);
				if (call) msg.ok ? call.resolve(msg.result) : call.reject(Object.assign(new Error(typeof msg.error === 'string' ? msg.error : 'call failed'), { detail: msg.error }));
				break;
			}
			case 'sig':
				// Kept for the next subscription, if it still covers this page's topics.
				if (info && sameTopics(msg.topics, Object.keys(info.topics ?? {}))) info.sig = msg.sig;
				break;
			case 'error':
				if (msg.code === 'expired') {
					reloadProps().then(() => send(subFrame()), () => location.reload());
					break;
				}
				console.warn('fymo live:', msg.error);
				break;
		}
	}

	function send(frame) {
		if (ws && ws.readyState === 1 && state.connected) ws.send(JSON.stringify(frame));
		else outbox.push(frame);
	}

	function schedule() {
		if (closed) return;
		state.connected = false;
		clearTimeout(timer);
		// Exponential back-off with full jitter: 250 ms doubling, at most 10 s.
		const delay = Math.random() * Math.min(10000, 250 * 2 ** attempt++) + 50;
		timer = setTimeout(open, delay);
	}

	async function open() {
		if (closed || !info) return;
		if (sigExpired()) {
			// A page left open for hours: a signature that ran out would only be refused.
			try {
				await reloadProps();
			} catch {
				return schedule();
			}
			if (closed || !info) return;
		}
		clearInterval(watchdog);
		watchdog = setInterval(() => {
			if (Date.now() - heard > hb * 2.5) {
				ws?.close();
				es?.close();
				es = null;
				schedule();
			}
		}, Math.min(hb, 5000));
		heard = Date.now();
		if (useSse) return openSse();
		let opened = false;
		const socket = (ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/_fymo/live`));
		socket.onopen = () => {
			opened = true;
			state.transport = 'websocket';
			socket.send(JSON.stringify(subFrame()));
		};
		socket.onmessage = (e) => onFrame(JSON.parse(e.data));
		socket.onclose = () => {
			if (ws !== socket) return;
			ws = null;
			if (!opened && ++failures >= 3 && typeof EventSource !== 'undefined') useSse = true;
			schedule();
		};
	}

	function openSse() {
		state.transport = 'sse';
		const source = (es = new EventSource(`/_fymo/live/sse?sub=${encodeURIComponent(JSON.stringify(subFrame()))}`));
		source.onmessage = (e) => onFrame(JSON.parse(e.data));
		source.onerror = () => {
			source.close();
			if (es === source) {
				es = null;
				schedule();
			}
		};
	}

	const live = {
		state,
		/** Calls `fn(data, message)` on event `name` ('patch', 'refetch', 'presence', 'connect' too); returns the unsubscribe. */
		on(name, fn) {
			if (!handlers.has(name)) handlers.set(name, new Set());
			handlers.get(name).add(fn);
			return () => handlers.get(name)?.delete(fn);
		},
		/** Calls the page controller's live action `action` with `args`; resolves to its props. */
		call(action, args = {}) {
			// A call may change what other pages show: client navigation stops showing
			// pages it fetched before as current (navigate.js).
			const mutated = () => dispatchEvent(new Event('fymo:mutation'));
			if (es || useSse) {
				return fetch('/_fymo/live/call', {
					method: 'POST',
					credentials: 'same-origin',
					headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': props?.fymo?.csrf ?? '' },
					body: JSON.stringify({ page, action, args })
				})
					.then((r) => r.json())
					.then((r) => (r.ok ? r.result : Promise.reject(Object.assign(new Error('call failed'), { detail: r.error }))))
					.finally(mutated);
			}
			const id = nextId++;
			return new Promise((resolve, reject) => {
				pending.set(id, { resolve, reject });
				send({ t: 'call', id, action, args });
			}).finally(mutated);
		},
		/** Follow another page's topics (client-side navigation). */
		navigate(url, newProps) {
			page = url;
			setPage(newProps);
			if (ws && state.connected) ws.send(JSON.stringify(subFrame()));
			else if (!ws && !es) open();
		},
		/** Drops the connection as a network failure would (it reconnects and resumes). */
		drop() {
			ws?.close();
			if (es) {
				es.close();
				es = null;
				schedule();
			}
		},
		/** The last position seen per topic. */
		positions,
		close() {
			closed = true;
			clearTimeout(timer);
			clearInterval(watchdog);
			ws?.close();
			es?.close();
		}
	};

	setPage(props);
	if (info) open();
	// Back/forward cache: a restored page reconnects and resumes.
	addEventListener('pageshow', (e) => {
		if (e.persisted && !ws && !es) {
			closed = false;
			open();
		}
	});
	addEventListener('pagehide', (e) => {
		if (e.persisted) {
			ws?.close();
			es?.close();
			ws = es = null;
			closed = true;
		}
	});
	return live;
}
