"""The demo's documentation pages (shared by the docs controllers)."""
PAGES = [
    {"slug": "index", "href": "/docs", "title": "Overview",
     "body": "Fymo renders Svelte 5 pages from Rust and Python controllers."},
    {"slug": "layouts", "href": "/docs/layouts", "title": "Nested layouts",
     "body": "templates/docs/_layout.svelte wraps every page in templates/docs/, inside the app's layout; "
             "controllers/docs/_layout.py gives it the sidebar."},
    {"slug": "navigation", "href": "/docs/navigation", "title": "Client navigation",
     "body": "Links between pages load only the next page's props: the layouts stay, with their state."},
    {"slug": "forms", "href": "/docs/forms", "title": "Forms",
     "body": "Forms post with fetch; a 422 re-renders the page with the errors, a redirect navigates."},
]
