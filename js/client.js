// Client runtime: hydrates the server-rendered page in place (keeps the server's DOM
// nodes) with props that live updates patch (they are reactive: the page re-renders),
// then hands over to client navigation (navigate.js).
import { hydrate } from 'svelte';
import LayoutRoot from './LayoutRoot.svelte';
import { reactive } from './Reactive.svelte';
import { connectLive, LIVE_KEY } from './live.js';
import { install } from './navigate.js';

/** The page object the server put on the hydration target (Inertia's `data-page`). */
function readPage(target) {
	return target?.dataset.page ? JSON.parse(target.dataset.page) : { props: {}, layoutProps: [], layouts: [] };
}

/**
 * @param {any} Page the page component
 * @param {any[]} [Layouts] the layouts wrapping it, outermost first
 */
export function start(Page, Layouts = []) {
	const target = document.getElementById('__fymo');
	const page = readPage(target);
	const props = reactive(page.props);
	const live = connectLive(props, reactive);
	// Browsers hide a nonce from getAttribute but keep it on the element's property.
	const nonce = document.querySelector('script[nonce]')?.nonce ?? '';
	const context = new Map([[LIVE_KEY, live], ['fymo:nonce', nonce]]);
	const layouts = Layouts.map((component, i) => ({ component, props: page.layoutProps?.[i] ?? {} }));
	const app = layouts.length
		? hydrate(LayoutRoot, { target, props: { layouts, Page, props }, context })
		: hydrate(Page, { target, props, context });
	// Not `window.__fymo`: that name is the hydration target element (named access).
	window.__fymoPage = { app, props, page, live };
	install({ app, root: layouts.length ? 'layouts' : 'page', target, page, live, context });
	return app;
}
