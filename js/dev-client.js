// Fymo's dev client: listens to /_fymo/dev/events, reloads after a rebuild, swaps
// stylesheets when only CSS changed, and shows an overlay while the app is broken.
// EventSource reconnects by itself after a server restart; a new build version then
// triggers a reload.

const OVERLAY_ID = 'fymo-dev-overlay';
let version = null;

function escape(text) {
	return String(text ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function showOverlay(error) {
	if (document.getElementById('fymo-error')) return; // already the server's error page
	let el = document.getElementById(OVERLAY_ID);
	if (!el) {
		el = document.createElement('div');
		el.id = OVERLAY_ID;
		el.style.cssText =
			'position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,26,.96);color:#eee;font:14px/1.5 ui-monospace,monospace;padding:2rem';
		document.body.append(el);
	}
	const place = error.file ? `${error.file}${error.line ? `:${error.line}` : ''}${error.column ? `:${error.column}` : ''}` : '';
	el.dataset.kind = error.kind;
	el.innerHTML = `<p style="color:#ff6b6b;text-transform:uppercase">${escape(error.kind)} error</p>
<h1 class="message">${escape(error.message)}</h1><p style="color:#8ab4f8">${escape(place)}</p>
${error.frame ? `<pre style="background:#111;padding:1rem">${escape(error.frame)}</pre>` : ''}
${error.stack ? `<pre style="background:#111;padding:1rem">${escape(error.stack)}</pre>` : ''}`;
}

function hideOverlay() {
	document.getElementById(OVERLAY_ID)?.remove();
}

/** Whether this page is the server's error page for a broken app (build, routes.yml). */
function brokenBuildPage() {
	return document.getElementById('fymo-error')?.dataset.wholeApp === 'true';
}

function swapStylesheets(files) {
	const stem = (path) => path.replace(/-[A-Z0-9]{8}\.css$/, '');
	const byStem = new Map(files.map((f) => [stem(f), f]));
	for (const link of document.querySelectorAll('link[rel="stylesheet"][href^="/_fymo/"]')) {
		const current = link.getAttribute('href').slice('/_fymo/'.length);
		const next = byStem.get(stem(current));
		if (next && next !== current) link.setAttribute('href', '/_fymo/' + next);
	}
}

const source = new EventSource('/_fymo/dev/events');
source.onmessage = (message) => {
	const event = JSON.parse(message.data);
	switch (event.type) {
		case 'hello':
			if (event.error) showOverlay(event.error);
			else if (version !== null && event.version !== version) location.reload();
			else if (brokenBuildPage()) location.reload(); // fixed while we were away
			version = event.version;
			break;
		case 'reload':
			location.reload();
			break;
		case 'css':
			version = event.version;
			hideOverlay();
			if (brokenBuildPage()) location.reload();
			else swapStylesheets(event.files);
			break;
		case 'error':
			showOverlay(event);
			break;
	}
};
window.__fymoDev = { source };
