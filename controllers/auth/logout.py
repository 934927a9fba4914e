"""POST /logout: ends the session."""
from fymo import clear_session, redirect


def action(request):
    clear_session(request)
    return redirect("/login")
