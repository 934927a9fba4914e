// Client runtime: hydrates the server-rendered page in place (keeps the server's DOM nodes).
import { hydrate } from 'svelte';
import LayoutRoot from './LayoutRoot.svelte';

/** Reads the props the server serialized into the document. */
function readProps() {
	const el = document.getElementById('__fymo_props');
	return el ? JSON.parse(el.textContent) : {};
}

/**
 * @param {any} Page the page component
 * @param {any} [Layout] the layout wrapping it, if the route has one
 */
export function start(Page, Layout) {
	const target = document.getElementById('__fymo');
	const props = readProps();
	const app = Layout
		? hydrate(LayoutRoot, { target, props: { Layout, Page, props } })
		: hydrate(Page, { target, props });
	// Not `window.__fymo`: that name is the hydration target element (named access).
	window.__fymoPage = { app, props };
	return app;
}
