// `@inertiajs/core/server` (and `@inertiajs/svelte/server`, which re-exports it) in the
// server bundle of an app with its own ssr.js: Inertia's `createServer(render)` starts a
// Node HTTP server; here it hands `render(page) -> { head: string[], body }` to Fymo's
// host (js/ssr-host.js), which calls it in the engine for every page.
export default function createServer(render) {
	globalThis.__fymoAppRender = render;
	return render;
}
