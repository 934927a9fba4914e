// SSR host glue: evaluated once per engine instance as part of the SSR bundle.
// Installs `globalThis.__fymo` for the Rust side:
//   render(name, layoutsJson, propsJson)
//                                    starts a render (`layoutsJson`: null or
//                                    `[{component, props}]`, outermost first); returns
//                                    `[head, body]` at once when it completed
//                                    synchronously, else undefined
//   poll()                           after Rust ran the pending promise jobs: `[head, body]`
//                                    when the render settled (throws its error when it
//                                    failed), else fires one due timer and returns 0, else
//                                    returns the ms until the next timer, or -1 when there
//                                    is none
// Props cross as a JSON string (one parse); the markup comes back as two plain strings,
// not JSON (a page's HTML is the largest string of a render: no quoting and parsing it
// again). Nothing from one render survives into the next (leftover timers are dropped).
import { current, timerQueue } from './runtime.js';

/**
 * @param {{ components: Record<string, any>, LayoutRoot: any, render: Function, async?: boolean }} deps
 *   `components` entries are getters (node-tools/ssr-entry.mjs): read one only to render it,
 *   so the dev bundle evaluates a template's module on its first render.
 *   `async`: the app compiles with `experimental.async` (svelte.config.js): renders are
 *   awaited, as `await render(...)` in Node.
 */
/**
 * The host of an app with its own server entry (node-tools/app-entries.mjs): its render
 * function, which Inertia's `createServer` handed over (js/shims/inertia-server.js), takes
 * the page object (what Rust passes as the props) and answers `{ head: string[], body }`,
 * maybe later.
 */
export function installApp() {
	const render = globalThis.__fymoAppRender;
	if (typeof render !== 'function') {
		throw new Error('ssr.js registered no render function: call createServer(render) from @inertiajs/svelte/server');
	}
	globalThis.__fymo = host({
		components: () => '[]',
		start: (_name, _layoutsJson, pageJson) => render(JSON.parse(pageJson)),
		async: true,
		output: (result) => [(result.head ?? []).join('\n'), result.body]
	});
}

export function install({ components, LayoutRoot, render, async = false }) {
	const lookup = (name) => {
		const component = components[name];
		if (!component) throw new Error(`no component "${name}" in the SSR bundle`);
		return component;
	};

	// What `getContext('fymo:live')` gives components on the server: nothing is live there.
	const live = {
		state: { connected: false, transport: null, presence: {} },
		on: () => () => {},
		call: () => Promise.reject(new Error('live calls run in the browser')),
		navigate() {},
		positions: new Map(),
		close() {}
	};
	// `getContext('fymo:nonce')`: the CSP nonce, for packages that write inline scripts or
	// styles (mode-watcher's `nonce` prop). The document puts this response's nonce in
	// place of the mark (in `nonce="…"` attributes only), so cached pages stay right.
	const context = () => new Map([['fymo:live', live], ['fymo:nonce', '%fymo.nonce%']]);

	globalThis.__fymo = host({
		components: () => JSON.stringify(Object.keys(components)),
		start(name, layoutsJson, propsJson) {
			const Page = lookup(name);
			const props = JSON.parse(propsJson);
			const layouts = layoutsJson
				? JSON.parse(layoutsJson).map((l) => ({ component: lookup(l.component), props: l.props }))
				: [];
			return layouts.length
				? render(LayoutRoot, { props: { layouts, Page, props }, context: context() })
				: render(Page, { props, context: context() });
		},
		async,
		output: (result) => [result.head, result.body]
	});
}

/**
 * `globalThis.__fymo` around a way to render: `start(name, layoutsJson, propsJson)` begins a
 * render, `output(result)` turns its result into `[head, body]`; with `async`, the result is
 * awaited through `poll()`.
 */
function host({ components, start, async, output }) {
	/** @type {{ done: boolean, html?: string[], error?: unknown } | null} */
	let task = null;
	const finish = () => {
		task = null;
		current.template = null;
		timerQueue.clear();
	};
	return {
		components,
		render(name, layoutsJson, propsJson) {
			task = null;
			timerQueue.clear();
			current.template = name;
			const result = start(name, layoutsJson, propsJson);
			if (!async) {
				// Since Svelte 5.39 render() is lazy: reading head/body does the work.
				try {
					return output(result);
				} finally {
					finish();
				}
			}
			const t = (task = { done: false });
			Promise.resolve(result).then(
				(r) => Object.assign(t, { done: true, html: output(r) }),
				(error) => Object.assign(t, { done: true, error })
			);
			return undefined;
		},
		poll() {
			if (!task) throw new Error('no render in progress');
			if (task.done) {
				const { html, error } = task;
				finish();
				if (html === undefined) throw error;
				return html;
			}
			return timerQueue.step();
		}
	};
}
