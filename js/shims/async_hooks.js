// `node:async_hooks` for the embedded engine: AsyncLocalStorage for Svelte's async SSR.
// An engine instance runs one render at a time and its event loop (src/engine) runs until
// that render settles, so a store set by `run` stays the current one until the promise
// `run` returned settles, then the previous store comes back. That is what Svelte needs:
// `als.run(context, async () => ...)` reads the store again after each `await`.
export class AsyncLocalStorage {
	#store = undefined;

	getStore() {
		return this.#store;
	}

	run(store, fn, ...args) {
		const previous = this.#store;
		this.#store = store;
		let result;
		try {
			result = fn(...args);
		} catch (e) {
			this.#store = previous;
			throw e;
		}
		if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
			const restore = () => {
				this.#store = previous;
			};
			// A side branch: the caller still gets (and handles) the very same promise.
			Promise.resolve(result).then(restore, restore);
		} else {
			this.#store = previous;
		}
		return result;
	}

	exit(fn, ...args) {
		return this.run(undefined, fn, ...args);
	}

	enterWith(store) {
		this.#store = store;
	}

	disable() {
		this.#store = undefined;
	}

	static bind(fn) {
		return fn;
	}

	static snapshot() {
		return (fn, ...args) => fn(...args);
	}
}

export default { AsyncLocalStorage };
