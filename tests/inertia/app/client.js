// The browser's entry, as Inertia's guide writes it; `fymo:pages` is every template by name.
import { createInertiaApp } from '@inertiajs/svelte';
import pages from 'fymo:pages';

createInertiaApp({
	resolve: (name) => pages[name],
	// Fymo's pages carry a Content-Security-Policy: Inertia's progress bar styles need its nonce.
	nonce: document.querySelector('meta[name="csp-nonce"]')?.content
}).then(() => document.documentElement.setAttribute('data-hydrated', ''));
