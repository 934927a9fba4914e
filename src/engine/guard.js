// Evaluated once per engine instance, after the SSR bundle: records the standard
// built-ins and returns a function that, after each render, names the first one a
// render replaced or added to (`JSON.stringify`, `Array.prototype.map`, a new enumerable
// key on `Object.prototype`), or returns null. The pool replaces an instance whose
// built-ins changed, so the next render starts from pristine ones.
// Everything the check uses is captured here, so replacing it cannot hide a change.
(() => {
	const names = [
		'Object', 'Function', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Math', 'JSON',
		'Reflect', 'Promise', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Date', 'RegExp', 'Error', 'TypeError',
		'RangeError', 'SyntaxError', 'ReferenceError', 'ArrayBuffer', 'Uint8Array', 'DataView', 'Proxy',
		'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent', 'decodeURIComponent',
		'encodeURI', 'decodeURI', 'queueMicrotask', 'structuredClone', 'TextEncoder', 'TextDecoder', 'URL',
		'URLSearchParams',
		// js/runtime.js
		'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'atob', 'btoa', 'crypto',
		'performance', 'Event', 'CustomEvent', 'EventTarget', 'AbortController', 'AbortSignal', 'DOMException'
	];
	const ownKeys = Reflect.ownKeys;
	const describe = Object.getOwnPropertyDescriptor;
	const hasOwn = Object.hasOwn;
	const getPrototypeOf = Object.getPrototypeOf;
	const holders = [];
	const keys = [];
	const values = [];
	const watchKey = (holder, key) => {
		const d = describe(holder, key);
		// Accessors (`__proto__`, `size`) and constants (`Math.PI`) cannot be replaced by
		// plain assignment; a data property that can, is watched by identity.
		if (d && 'value' in d && (d.writable || d.configurable)) {
			holders.push(holder);
			keys.push(key);
			values.push(d.value);
		}
	};
	const watch = (holder) => {
		for (const key of ownKeys(holder)) watchKey(holder, key);
	};
	// Only the standard globals: the app's own globals are the app's business.
	for (const name of names) {
		const value = globalThis[name];
		if (value === undefined || value === null) continue;
		watchKey(globalThis, name);
		if (typeof value !== 'object' && typeof value !== 'function') continue;
		watch(value);
		if (typeof value === 'function' && value.prototype) watch(value.prototype);
	}
	// An enumerable key added to these (plain assignment makes one) shows up in every
	// `for...in` over ordinary objects, arrays, functions or strings; `for...in` walks up
	// to Object.prototype, where none is enumerable.
	const polluted = [Array.prototype, Function.prototype, String.prototype];
	const label = (holder, key) => {
		if (holder === globalThis) return String(key);
		for (const name of names) {
			const value = globalThis[name];
			if (value === holder) return `${name}.${String(key)}`;
			if (value && value.prototype === holder) return `${name}.prototype.${String(key)}`;
		}
		return String(key);
	};
	// Straight-line code, one comparison per property: each site sees one object shape,
	// so the check costs a fraction of a loop over the same arrays (measured in
	// benches/engines.rs).
	const identifier = /^[A-Za-z_$][\w$]*$/;
	const body = holders.map((_, i) => {
		const key = keys[i];
		const read = typeof key === 'string' && identifier.test(key) ? `h[${i}].${key}` : `h[${i}][k[${i}]]`;
		return `if (${read} !== v[${i}]) return ${i};`;
	});
	const firstChanged = new Function('h', 'k', 'v', `${body.join('\n')}\nreturn -1;`);
	return function changed() {
		const i = firstChanged(holders, keys, values);
		if (i >= 0) return label(holders[i], keys[i]);
		for (let j = 0; j < polluted.length; j++) {
			for (const key in polluted[j]) {
				let owner = polluted[j];
				while (owner && !hasOwn(owner, key)) owner = getPrototypeOf(owner);
				return `${label(owner, key)} (added)`;
			}
		}
		return null;
	};
})()
