"""GET/POST /login: signs a visitor in (any name, the password is `demo`)."""
from fymo import flash, redirect, rotate_session, status


def get_context(request):
    return {"username": "", "error": None}


def action(request):
    username = request["form"].get("username", "").strip()
    password = request["form"].get("password", "")
    if not username or password != "demo":
        return status(422, {"username": username, "error": "Wrong name or password (the password is demo)."})
    request["session"]["user"] = username[:80]
    rotate_session(request)  # a new session id and CSRF token on sign-in
    flash(request, f"Welcome back, {username[:80]}")
    return redirect("/account")
