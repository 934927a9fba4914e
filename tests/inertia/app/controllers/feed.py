from fymo import defer, merge, once


def get_context(request):
    page = int(request["query"].get("page", "1"))
    items = [f"item {n}" for n in range((page - 1) * 3 + 1, page * 3 + 1)]
    # `items` pages append on the client (infinite scroll); `stats` loads after the page;
    # the client keeps `plans` once it has them.
    return {
        "page": page,
        "items": merge(items),
        "stats": defer(lambda: {"count": 42}),
        "plans": once(lambda: ["free", "pro"]),
    }
