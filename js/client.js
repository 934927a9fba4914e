// Client runtime: hydrates the server-rendered page in place (keeps the server's DOM
// nodes), with props that live updates patch (they are reactive: the page re-renders).
import { hydrate } from 'svelte';
import LayoutRoot from './LayoutRoot.svelte';
import { reactive } from './Reactive.svelte';
import { connectLive, LIVE_KEY } from './live.js';

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
	const props = reactive(readProps());
	const live = connectLive(props, reactive);
	const context = new Map([[LIVE_KEY, live]]);
	const app = Layout
		? hydrate(LayoutRoot, { target, props: { Layout, Page, props }, context })
		: hydrate(Page, { target, props, context });
	// Not `window.__fymo`: that name is the hydration target element (named access).
	window.__fymoPage = { app, props, live };
	return app;
}
