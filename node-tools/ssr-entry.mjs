// The SSR entry, written once for both bundlers: it hands js/ssr-host.js's `install` the
// Svelte server `render`, LayoutRoot and a table of every template (component name ->
// its module's default export). Each bundler only says how a module is referenced:
// ES imports for esbuild (prod-bundle.mjs), the module table's `require` (dev-bundle.mjs).
// Components are read through getters, so with `require` a template's module is
// evaluated on its first render, not when ssr.js loads.

/** `products/show.svelte` -> `products/show`: the name Rust renders and the manifest keys. */
export const componentName = (template) => template.replace(/\.svelte$/, '');

/**
 * One value the entry needs: export `name` of module `id`, bound to `local`.
 * @typedef {{ local: string, id: string, name: string, isPackage: boolean, lazy: boolean }} Binding
 *   `id`: a package specifier, or a path under the compile mirror (`templates/home.svelte`,
 *   `__fymo/ssr-host.js`), which is also its id in the dev module table.
 *   `lazy`: only read inside a component getter.
 * @typedef {(binding: Binding) => { declare?: string, value: string }} Linker
 *   `declare`: a top-level statement for the binding; `value`: the expression that reads it.
 */

/**
 * @param {string[]} templates paths under templates/, `/`-separated
 * @param {Linker} link
 * @param {{ async?: boolean }} [options] `async`: renders are awaited (experimental.async)
 */
export function ssrEntry(templates, link, { async = false } = {}) {
	const bind = (local, id, name, { isPackage = false, lazy = false } = {}) => link({ local, id, name, isPackage, lazy });
	const render = bind('render', 'svelte/server', 'render', { isPackage: true });
	const install = bind('install', '__fymo/ssr-host.js', 'install');
	const layoutRoot = bind('LayoutRoot', '__fymo/LayoutRoot.svelte', 'default');
	const components = templates.map((t, i) => [componentName(t), bind(`C${i}`, `templates/${t}`, 'default', { lazy: true })]);
	const all = [render, install, layoutRoot, ...components.map(([, c]) => c)];
	const prop = (key, { value }) => (value === key ? key : `${key}: ${value}`);
	return [
		...all.flatMap((b) => b.declare ?? []),
		`${install.value}({ ${prop('render', render)}, ${prop('LayoutRoot', layoutRoot)}, async: ${async}, components: {`,
		...components.map(([name, c]) => `\tget ${JSON.stringify(name)}() { return ${c.value}; },`),
		`} });`
	].join('\n');
}

/**
 * The SSR entry of an app with its own server entry (app-entries.mjs): that file registers
 * its render function as it loads, then the host installs around it.
 * @param {string} file the app's ssr.js
 * @param {Linker} link
 */
export function appSsrEntry(file, link) {
	const install = link({ local: 'installApp', id: '__fymo/ssr-host.js', name: 'installApp', isPackage: false, lazy: false });
	return [`import ${JSON.stringify(file)};`, install.declare ?? '', `${install.value}();`].join('\n');
}

/** esbuild: ES imports; `file(id)` is the path of a module of the compile mirror. */
export const importLinker = (file) => ({ local, id, name, isPackage }) => {
	const what = name === 'default' ? local : name === local ? `{ ${name} }` : `{ ${name} as ${local} }`;
	return { declare: `import ${what} from ${JSON.stringify(isPackage ? id : file(id))};`, value: local };
};

/** The dev module table: `require(id)`, put off until the first read for lazy bindings. */
export const requireLinker = ({ local, id, name, lazy }) => {
	const read = `require(${JSON.stringify(id)}).${name}`;
	return lazy ? { value: read } : { declare: `const ${local} = ${read};`, value: local };
};
