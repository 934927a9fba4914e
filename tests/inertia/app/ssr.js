// The server's entry, as Inertia's SSR guide writes it: Fymo runs it in its engines, in
// process (createServer hands the render function to Fymo instead of starting a server).
import { createInertiaApp } from '@inertiajs/svelte';
import createServer from '@inertiajs/svelte/server';
import { render } from 'svelte/server';
import pages from 'fymo:pages';

createServer((page) =>
	createInertiaApp({
		page,
		resolve: (name) => pages[name],
		setup: ({ App, props }) => render(App, { props })
	})
);
