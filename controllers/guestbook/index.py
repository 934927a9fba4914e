"""GET/POST /guestbook: a Python controller handling a form POST.

Entries live in a JSON file so every worker process sees the same book.
"""
import fcntl
import json
import os

from fymo import redirect, status

BOOK = os.path.join(os.path.dirname(__file__), "..", "..", ".fymo", "guestbook.json")


def _read():
    try:
        with open(BOOK) as f:
            return json.load(f)
    except FileNotFoundError:
        return []


def get_context(request):
    entries = _read()
    return {"entries": entries[-20:][::-1], "count": len(entries), "error": None}


def action(request):
    name = request["form"].get("name", "").strip()
    message = request["form"].get("message", "").strip()
    if not name or not message:
        context = get_context(request)
        context["error"] = "Both a name and a message, please."
        return status(422, context)
    os.makedirs(os.path.dirname(BOOK), exist_ok=True)
    with open(BOOK + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = _read()
        entries.append({"name": name[:80], "message": message[:500]})
        with open(BOOK + ".tmp", "w") as f:
            json.dump(entries, f)
        os.replace(BOOK + ".tmp", BOOK)
    print(f"guestbook: entry from {name!r}")  # goes to Fymo's log
    return redirect("/guestbook")
