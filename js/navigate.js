// Client navigation over Inertia's protocol: same-origin links and forms load the next
// page's object (`X-Inertia: true`) instead of a whole document, and the page is swapped
// in place. Layouts that stay keep their state; history back/forward restores pages and
// scroll positions from a bounded cache; hovering a link prefetches it; a slow navigation
// shows a progress bar. `data-fymo-reload` on a link or form (or an ancestor) opts out.
//
// URLs stay URL objects, absolute, and their origin is compared: a path such as
// `//evil.example/x` (from the same-origin link `/.//evil.example/x`) must never be read
// as another authority, and modules are imported only from the app's asset prefix,
// whatever a page object says.
import { mount, tick, unmount } from 'svelte';
import LayoutRoot from './LayoutRoot.svelte';
import { reactive } from './Reactive.svelte';

const CACHE_SIZE = 20; // page objects kept for back/forward (history.state stays small)
const PREFETCH_FRESH_MS = 10_000;
const HOVER_MS = 65;
const PROGRESS_DELAY_MS = 150;
const ASSET_PREFIX = '/_fymo/';

/** `href` resolved against `base` when it stays on this origin, else null. */
function local(href, base = location.href) {
	const url = new URL(href, base);
	return url.origin === location.origin ? url : null;
}

/** The cache key of a URL: absolute, without its fragment. */
function keyOf(href) {
	const url = new URL(href, location.href);
	url.hash = '';
	return url.href;
}

/** An asset URL of this app (`/_fymo/...` on this origin); anything else throws. */
function assetUrl(href) {
	const url = local(href);
	if (!url || !url.pathname.startsWith(ASSET_PREFIX)) throw new Error(`refused to load ${href}: not an asset of this app`);
	return url.href;
}

/** @type {Map<string, {page: any, at: number, generation: number}>} URL -> page object, least recent first */
const cache = new Map();
let state; // { app, root: 'layouts' | 'page', target, page }
let visitId = 0;
/** Goes up with every mutation (a non-GET visit, a live call): a page asked for before
 * the latest one may show data it changed, so a link never shows it as current. */
let generation = 0;

/** Marks a mutation: pages asked for until now are history, not current. */
function mutated() {
	generation++;
}

/** Keeps `page`, asked for at `asked` (time and generation: an answer that arrives after a
 * mutation may still hold what was there before it). */
function remember(page, asked = { at: Date.now(), generation }) {
	const key = keyOf(page.url);
	cache.delete(key);
	cache.set(key, { page, ...asked });
	while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
}

/** A page to show as current for a link: asked for within `PREFETCH_FRESH_MS` and since
 * the last mutation. */
function fresh(url) {
	const entry = cache.get(keyOf(url));
	return entry?.generation === generation && Date.now() - entry.at <= PREFETCH_FRESH_MS ? usable(entry) : null;
}

/** A page for back/forward, whatever its age: the browser's own model of history. */
function cached(url) {
	return usable(cache.get(keyOf(url)));
}

function usable(entry) {
	return entry && entry.page.version === state.page.version ? entry.page : null;
}

const asking = () => ({ at: Date.now(), generation });

/** Whether a click on `a` should be left to the browser. */
function skipLink(event, a) {
	if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
		return true;
	if (!a || a.target && a.target !== '_self' || a.hasAttribute('download') || a.closest('[data-fymo-reload]')) return true;
	const url = local(a.href);
	if (!url || url.pathname.startsWith(ASSET_PREFIX)) return true;
	// A jump within the current page.
	return url.hash && url.pathname === location.pathname && url.search === location.search;
}

const progress = {
	timer: 0,
	bar: null,
	start() {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.bar ??= Object.assign(document.createElement('div'), { id: 'fymo-progress' });
			Object.assign(this.bar.style, {
				position: 'fixed', top: '0', left: '0', height: '3px', width: '0', zIndex: '2147483646',
				background: '#29d', transition: 'width 8s cubic-bezier(.1,.7,.1,1)'
			});
			document.body.append(this.bar);
			requestAnimationFrame(() => (this.bar.style.width = '90%'));
		}, PROGRESS_DELAY_MS);
	},
	done() {
		clearTimeout(this.timer);
		this.bar?.remove();
	}
};

/** @param {URL} url on this origin */
async function request(url, { method = 'GET', body, only } = {}) {
	const headers = {
		'X-Inertia': 'true',
		'X-Inertia-Version': state.page.version,
		'X-Requested-With': 'XMLHttpRequest',
		Accept: 'text/html, application/xhtml+xml'
	};
	if (only) {
		headers['X-Inertia-Partial-Component'] = state.page.component;
		headers['X-Inertia-Partial-Data'] = only.join(',');
	}
	const response = await fetch(url.href, { method, body, headers, credentials: 'same-origin' });
	const location409 = response.status === 409 && response.headers.get('x-inertia-location');
	// Relative to what was asked; another origin only when the server names one whole.
	if (location409) return { reload: new URL(location409, url).href };
	if (response.headers.get('x-inertia') !== 'true') {
		// Not a page: a GET loads it whole; a form's answer (an error page) is shown as it
		// is, rather than losing what was sent by loading the URL again.
		return method === 'GET' ? { reload: response.url } : { html: await response.text() };
	}
	// `redirected`: the answer of the GET a redirect led to (a form's 303), which is what
	// its URL shows.
	return { page: await response.json(), status: response.status, redirected: response.redirected };
}

/** Loads a component's module and stylesheets (waiting for the CSS, so nothing flashes). */
async function load(page, name) {
	const asset = page.assets?.[name];
	if (!asset) throw new Error(`no assets for ${name}`);
	const sheets = asset.css
		.map(assetUrl)
		.filter((href) => ![...document.querySelectorAll('link[rel="stylesheet"]')].some((link) => link.href === href))
		.map(
			(href) =>
				new Promise((resolve) => {
					const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
					link.onload = link.onerror = resolve;
					document.head.append(link);
				})
		);
	const [module] = await Promise.all([import(assetUrl(asset.js)), ...sheets]);
	return module.default;
}

/**
 * Shows `page`: swaps the page inside the layouts that stay, or mounts afresh. `false`
 * when visit `id` was overtaken by a later one while the modules loaded.
 */
async function render(page, id) {
	const [Page, ...Layouts] = await Promise.all([page.component, ...page.layouts].map((n) => load(page, n)));
	if (id !== visitId) return false;
	const props = reactive(page.props);
	const layouts = Layouts.map((component, i) => ({ component, props: page.layoutProps?.[i] ?? {} }));
	if (state.root === 'layouts' && layouts.length) {
		state.app.navigate({ layouts, Page, props });
	} else {
		unmount(state.app);
		state.target.textContent = '';
		const context = state.context;
		state.app = layouts.length
			? mount(LayoutRoot, { target: state.target, props: { layouts, Page, props }, context })
			: mount(Page, { target: state.target, props, context });
		state.root = layouts.length ? 'layouts' : 'page';
	}
	state.page = page;
	// The live connection follows the new page's topics, patching its props.
	state.live?.navigate(page.url, props);
	window.__fymoPage = { app: state.app, props, page, live: state.live };
	await tick(); // the new page is in the DOM: scrolling can reach into it
	return true;
}

/** Replaces the whole document with `html` (a server's error page). */
function showDocument(html) {
	document.open();
	document.write(html);
	document.close();
}

function saveScroll() {
	history.replaceState({ ...history.state, fymo: { url: keyOf(location.href), scroll: [scrollX, scrollY] } }, '');
}

/**
 * Visits `href` without reloading the document; another origin loads whole.
 * @param {string | URL} href
 * @param {{method?: string, body?: any, replace?: boolean, only?: string[], keepScroll?: boolean}} [options]
 */
export async function visit(href, options = {}) {
	const url = local(href);
	if (!url) return void location.assign(new URL(href, location.href).href);
	const id = ++visitId;
	const method = options.method ?? 'GET';
	const hash = url.hash; // the server never sees the fragment
	url.hash = '';
	progress.start();
	try {
		let page = method === 'GET' && !options.only ? fresh(url) : null;
		let status = 200;
		let redirected = false;
		const asked = asking();
		if (!page) {
			const answer = await request(url, { method, body: options.body, only: options.only });
			// Whatever it answered, the server may have changed something.
			if (method !== 'GET') mutated();
			if (answer.reload) return void location.assign(answer.reload);
			if (answer.html) return void showDocument(answer.html);
			({ page, status, redirected } = answer);
		}
		if (id !== visitId) return; // a later visit won
		if (options.only) page = { ...page, props: { ...state.page.props, ...page.props } };
		const from = state.page.url;
		const token = state.page.props?.fymo?.csrf;
		saveScroll();
		if (!(await render(page, id))) return;
		// Pages cached under another session's token would post forms that are refused.
		if (page.props?.fymo?.csrf !== token) cache.clear();
		// Only what a GET shows is what the URL shows (not a form's answer, unless it
		// redirected to a page).
		if ((method === 'GET' || redirected) && status < 400) remember(page, asked);
		// A form answered with errors (422) stays where it is; everything else is a new entry.
		const replace = options.replace || status >= 400 || (page.url === from && method !== 'GET');
		// The page's own URL, read as a path of this origin (a `//host` path stays a path).
		const shown = local(page.url, url) ?? url;
		shown.hash = hash;
		history[replace ? 'replaceState' : 'pushState']({ fymo: { url: keyOf(shown), scroll: [0, 0] } }, '', shown.href);
		if (!options.keepScroll && status < 400) {
			const anchor = hash && document.getElementById(decodeURIComponent(hash.slice(1)));
			anchor ? anchor.scrollIntoView() : scrollTo(0, 0);
		}
	} catch (error) {
		console.error('fymo: navigation failed, loading the page whole', error);
		location.assign(url.href + hash);
	} finally {
		if (id === visitId) progress.done();
	}
}

/** Reloads the current page's props (all, or `only` these). */
export function reload({ only } = {}) {
	return visit(location.href, { replace: true, only, keepScroll: true });
}

async function onPopState(event) {
	const entry = event.state?.fymo;
	if (!entry) return;
	const id = ++visitId; // any visit in flight is overtaken
	const page = cached(entry.url);
	if (!page) return void visit(entry.url, { replace: true, keepScroll: true });
	if (await render(page, id)) scrollTo(...(entry.scroll ?? [0, 0]));
}

function onClick(event) {
	const a = event.target.closest?.('a[href]');
	if (skipLink(event, a)) return;
	event.preventDefault();
	visit(local(a.href));
}

function onSubmit(event) {
	const form = event.target;
	const submitter = event.submitter;
	if (event.defaultPrevented || form.closest('[data-fymo-reload]') || submitter?.closest('[data-fymo-reload]')) return;
	// A button may override the form's action, method, encoding and target.
	const target = submitter?.getAttribute('formtarget') ?? form.getAttribute('target');
	const method = (submitter?.getAttribute('formmethod') ?? form.getAttribute('method') ?? 'get').toUpperCase();
	if ((target && target !== '_self') || method === 'DIALOG') return;
	const action = local(submitter?.getAttribute('formaction') ?? form.getAttribute('action') ?? location.href);
	if (!action) return;
	const enctype = submitter?.getAttribute('formenctype') ?? form.enctype;
	event.preventDefault();
	const data = new FormData(form, event.submitter);
	if (method === 'GET') {
		action.search = new URLSearchParams(data).toString();
		return void visit(action);
	}
	const multipart = enctype === 'multipart/form-data';
	const body = multipart ? data : new URLSearchParams(data);
	visit(action, { method, body, keepScroll: false });
}

let hoverTimer = 0;
function onHover(event) {
	const a = event.target.closest?.('a[href]');
	if (!a || skipLink({ button: 0 }, a)) return;
	clearTimeout(hoverTimer);
	hoverTimer = setTimeout(async () => {
		const url = local(a.href);
		url.hash = '';
		if (fresh(url)) return;
		const asked = asking();
		try {
			const answer = await request(url);
			if (answer.page && answer.status < 400) remember(answer.page, asked);
		} catch {
			// A failed prefetch costs nothing: the click fetches again.
		}
	}, HOVER_MS);
}

/** Starts client navigation for the page `start()` hydrated. */
export function install({ app, root, target, page, live, context }) {
	state = { app, root, target, page, live, context };
	remember(page);
	history.scrollRestoration = 'manual';
	saveScroll();
	addEventListener('popstate', onPopState);
	// live.js: a call finished (it may have changed what pages show).
	addEventListener('fymo:mutation', mutated);
	document.addEventListener('click', onClick);
	document.addEventListener('submit', onSubmit);
	document.addEventListener('mouseover', onHover);
	window.fymo = { visit, reload };
}
