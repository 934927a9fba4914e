"""The docs section's layout: its sidebar (props for templates/docs/_layout.svelte only)."""
from _docs_pages import PAGES


def get_context(request):
    return {"sidebar": [{"href": page["href"], "title": page["title"]} for page in PAGES]}
