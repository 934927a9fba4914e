"""GET/POST /session: the session, a flash, response headers and cookies from Python."""
from fymo import cookie, delete_cookie, flash, redirect, response, rotate_session


def get_context(request):
    session = request["session"]
    session["visits"] = session.get("visits", 0) + 1
    cookies = []
    if "theme" in request["query"]:
        cookies.append(cookie("theme", request["query"]["theme"], max_age=3600, same_site="Strict"))
    if "forget" in request["query"]:
        cookies.append(delete_cookie("theme"))
    return response(
        {"visits": session["visits"], "flash": request["flash"], "csrf": request["csrf"], "theme": request["cookies"].get("theme")},
        headers={"X-Visits": str(session["visits"])},
        cookies=cookies,
    )


def action(request):
    request["session"]["user"] = request["form"].get("user", "")
    rotate_session(request)
    flash(request, "saved")
    return redirect("/session")
