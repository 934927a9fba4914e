// SSR host glue: evaluated once per engine instance as part of the SSR bundle.
// Exposes `globalThis.__fymo.render(name, layout, propsJson) -> json` to the Rust side.
// Props cross as a JSON string and come back as a JSON string: one parse on each side,
// and nothing from one render survives into the next.

/**
 * @param {{ components: Record<string, any>, LayoutRoot: any, render: Function }} deps
 *   `components` entries are getters (node-tools/ssr-entry.mjs): read one only to render it,
 *   so the dev bundle evaluates a template's module on its first render.
 */
export function install({ components, LayoutRoot, render }) {
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
	const context = () => new Map([['fymo:live', live]]);

	globalThis.__fymo = {
		components: () => JSON.stringify(Object.keys(components)),
		render(name, layout, propsJson) {
			const Page = lookup(name);
			const props = JSON.parse(propsJson);
			const result = layout
				? render(LayoutRoot, { props: { Layout: lookup(layout), Page, props }, context: context() })
				: render(Page, { props, context: context() });
			// Since Svelte 5.39 render() is lazy: reading head/body does the work.
			return JSON.stringify({ head: result.head, body: result.body });
		}
	};
}
