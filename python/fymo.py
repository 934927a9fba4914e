"""Helpers for Fymo's Python controllers.

A controller module `controllers/a/b.py` defines one of:

    def get_context(request): ...   # preferred; `request` is a plain dict
    def getContext(): ...            # FyMo's original name, no argument
    context = {...}                  # a module-level dict

and, for POST routes, `def action(request): ...`.

Each returns a dict of props, or one of the responses below.

`request` keys: method, path, params, query, headers, cookies, form, json.

Values that Python's json cannot encode are converted by these rules:
datetime/date/time -> ISO 8601 string, Decimal -> string, UUID -> string,
set/frozenset/tuple -> list (sets sorted when their items sort), dataclass -> dict,
Enum -> its value. Anything else (bytes, arbitrary objects, NaN/Infinity, non-string
dict keys other than int/float/bool/None) is refused with an error naming the key path.
"""

__all__ = ["redirect", "status", "not_found"]


def redirect(location, status=303):
    """Answer with a redirect (303 See Other by default, right after a POST)."""
    if status not in (301, 302, 303, 307, 308):
        raise ValueError(f"redirect status must be 301, 302, 303, 307 or 308, not {status}")
    return {"__fymo__": "redirect", "location": str(location), "status": status}


def status(code, props=None):
    """Render the page with `props` and HTTP status `code`."""
    return {"__fymo__": "status", "status": int(code), "props": props or {}}


def not_found():
    """Answer 404 with the not-found page."""
    return {"__fymo__": "not_found"}
