// Minimal `node:async_hooks` for the embedded engine. Renders run one at a time per
// engine instance, so a stack of stores is enough for Svelte's synchronous SSR and for
// async work that completes within the same render.
export class AsyncLocalStorage {
	#store = undefined;

	getStore() {
		return this.#store;
	}

	run(store, fn, ...args) {
		const previous = this.#store;
		this.#store = store;
		try {
			return fn(...args);
		} finally {
			this.#store = previous;
		}
	}
}

export default { AsyncLocalStorage };
