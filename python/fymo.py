"""Helpers for Fymo's Python controllers.

A controller module `controllers/a/b.py` defines one of:

    def get_context(request): ...   # preferred; `request` is a plain dict
    def getContext(): ...            # FyMo's original name, no argument
    context = {...}                  # a module-level dict

and, for POST routes, `def action(request): ...`.

Each returns a dict of props, or one of the responses below.

`request` keys: method, path, params, query, headers, cookies, form, json, files
(dicts with field, name, content_type, size, path), session (a dict: change it and the
session cookie follows), flash (the message the previous request left, once) and csrf
(the token forms send back as `_csrf`); for a call from a live page, also action (its
name; the arguments are in json). `query` and `form` hold each field's first value;
`request["form"].getlist("tag")` gives every value of a repeated one, as Django's
QueryDict does.

Values that Python's json cannot encode are converted by these rules:
datetime/date/time -> ISO 8601 string, Decimal -> string, UUID -> string,
set/frozenset/tuple -> list (sets sorted when their items sort), dataclass -> dict,
Enum -> its value, NaN/Infinity -> null (as JavaScript's JSON.stringify and Rust's
serde_json write them). Anything else (bytes, arbitrary objects, non-string dict keys
other than int/float/bool/None) is refused with an error naming the key path.
"""

__all__ = [
    "redirect", "location", "status", "invalid", "not_found", "response", "cookie",
    "delete_cookie", "flash", "rotate_session", "clear_session", "publish", "live",
    "defer", "merge", "once",
]


class Deferred:
    """A prop an Inertia app's page is sent without: `fn()` runs only when Inertia's
    client asks for it (one partial reload per group, once the page shows)."""

    def __init__(self, fn, group):
        self.fn = fn
        self.group = group


class Merged:
    """A prop Inertia's client merges into what it has (appends arrays) instead of
    replacing; `deep`: merged deeply."""

    def __init__(self, value, deep):
        self.value = value
        self.deep = deep


class Once:
    """A prop Inertia's client keeps across visits once it has it: `fn()` runs only for a
    client that lacks it (or whose copy expired)."""

    def __init__(self, fn, expires_in):
        self.fn = fn
        self.expires_in = expires_in


def once(fn, expires_in=None):
    """A once prop: `{"plans": once(lambda: load_plans(), expires_in=3600)}` (seconds)."""
    return Once(fn, expires_in)


def defer(fn, group="default"):
    """A deferred prop: `{"stats": defer(lambda: slow_stats())}`."""
    return Deferred(fn, str(group))


def merge(value, deep=False):
    """A prop merged on the client: `{"posts": merge(next_page)}` (infinite scroll)."""
    return Merged(value, bool(deep))

_REDIRECTS = (301, 302, 303, 307, 308)


def response(props=None, status=200, headers=None, cookies=None):
    """Render the page with `props`, HTTP `status`, extra `headers` (a dict) and
    `cookies` (a list of `cookie(...)` / `delete_cookie(...)`)."""
    return {"__fymo__": "status", "status": int(status), "props": props or {},
            "headers": dict(headers or {}), "cookies": list(cookies or [])}


def redirect(location, status=303, headers=None, cookies=None):
    """Answer with a redirect (303 See Other by default, right after a POST)."""
    if status not in _REDIRECTS:
        raise ValueError(f"redirect status must be 301, 302, 303, 307 or 308, not {status}")
    return {"__fymo__": "redirect", "location": str(location), "status": status,
            "headers": dict(headers or {}), "cookies": list(cookies or [])}


def location(url, headers=None, cookies=None):
    """Leave for `url`, maybe another site's: a 303 redirect, or for Inertia's client 409
    with X-Inertia-Location, which makes it load the URL as a whole page."""
    return {"__fymo__": "location", "location": str(url),
            "headers": dict(headers or {}), "cookies": list(cookies or [])}


def invalid(errors, props=None, headers=None, cookies=None):
    """The page again, answered 422, with `props` and the form's `errors` (field name ->
    message) as its `errors` prop, as Inertia's useForm and a plain form read them."""
    return response({**(props or {}), "errors": dict(errors)}, 422, headers, cookies)


def status(code, props=None, headers=None, cookies=None):
    """Render the page with `props` and HTTP status `code`."""
    return response(props, code, headers, cookies)


def not_found():
    """Answer 404 with the not-found page."""
    return {"__fymo__": "not_found"}


def cookie(name, value, path="/", domain=None, max_age=None, expires=None, secure=False,
           http_only=True, same_site="Lax"):
    """A cookie to set. `max_age` in seconds; `expires` a Unix timestamp;
    `same_site` one of "Lax", "Strict", "None" (or None to leave it out)."""
    return {"name": str(name), "value": str(value), "path": path, "domain": domain,
            "max_age": max_age, "expires": expires, "secure": bool(secure),
            "http_only": bool(http_only), "same_site": same_site}


def delete_cookie(name, path="/", domain=None):
    """Deletes cookie `name` in the browser."""
    return {"name": str(name), "value": "", "path": path, "domain": domain, "remove": True}


def _ops(request):
    return request.setdefault("_fymo", {})


def flash(request, message):
    """Leaves `message` for the next page the visitor sees (after a redirect), once."""
    _ops(request)["flash"] = str(message)


def rotate_session(request):
    """Signing in: a new session id and CSRF token, keeping the values."""
    _ops(request)["rotate"] = True


def clear_session(request):
    """Signing out: drops every value of `request["session"]` and rotates."""
    request["session"].clear()
    _ops(request)["rotate"] = True


def publish(request, topic, patch=None, event=None, data=None):
    """Publishes to the live pages following `topic`, on every worker and host:
    `patch` (a dict merged into their props; None values remove keys) or a named
    `event` with `data`. Sent once the controller returns."""
    if (patch is None) == (event is None):
        raise ValueError("publish() takes either patch=... or event=...")
    op = {"topic": str(topic)}
    if patch is not None:
        op["patch"] = patch
    else:
        op["event"] = str(event)
        op["data"] = data
    _ops(request).setdefault("publish", []).append(op)


def live(request, *topics):
    """Makes this page follow `topics` (besides those of routes.yml)."""
    _ops(request).setdefault("live", []).extend(str(t) for t in topics)
