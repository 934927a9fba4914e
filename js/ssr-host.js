// SSR host glue: evaluated once per engine instance as part of the SSR bundle.
// Exposes `globalThis.__fymo.render(name, layoutsJson, propsJson) -> json` to the Rust side;
// `layoutsJson` is null or `[{component, props}]`, outermost first.
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

	globalThis.__fymo = {
		components: () => JSON.stringify(Object.keys(components)),
		render(name, layoutsJson, propsJson) {
			const Page = lookup(name);
			const props = JSON.parse(propsJson);
			const layouts = layoutsJson
				? JSON.parse(layoutsJson).map((l) => ({ component: lookup(l.component), props: l.props }))
				: [];
			const result = layouts.length
				? render(LayoutRoot, { props: { layouts, Page, props } })
				: render(Page, { props });
			// Since Svelte 5.39 render() is lazy: reading head/body does the work.
			return JSON.stringify({ head: result.head, body: result.body });
		}
	};
}
