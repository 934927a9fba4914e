// Client runtime: hydrates the server-rendered page in place (keeps the server's DOM nodes).
import { hydrate } from 'svelte';
import LayoutRoot from './LayoutRoot.svelte';

/** The page object the server put on the hydration target (Inertia's `data-page`). */
function readPage(target) {
	return target?.dataset.page ? JSON.parse(target.dataset.page) : { props: {} };
}

/**
 * @param {any} Page the page component
 * @param {any} [Layout] the layout wrapping it, if the route has one
 */
export function start(Page, Layout) {
	const target = document.getElementById('__fymo');
	const page = readPage(target);
	const props = page.props;
	const app = Layout
		? hydrate(LayoutRoot, { target, props: { Layout, Page, props } })
		: hydrate(Page, { target, props });
	// Not `window.__fymo`: that name is the hydration target element (named access).
	window.__fymoPage = { app, props, page };
	return app;
}
