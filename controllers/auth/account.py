"""GET /account: only for signed-in visitors."""
from fymo import redirect


def get_context(request):
    user = request["session"].get("user")
    if not user:
        return redirect("/login", status=302)
    return {"user": user}
