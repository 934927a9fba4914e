"""GET /docs and /docs/{slug}: one page of the docs section."""
from _docs_pages import PAGES
from fymo import not_found


def get_context(request):
    slug = request["params"].get("slug", "index")
    for page in PAGES:
        if page["slug"] == slug:
            return {"title": page["title"], "body": page["body"]}
    return not_found()


def entries():
    """The pages `fymo export` writes for /docs/{slug}."""
    return [{"slug": page["slug"]} for page in PAGES if page["slug"] != "index"]
