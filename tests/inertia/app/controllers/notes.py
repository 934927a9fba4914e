from fymo import invalid, redirect


def get_context(request):
    return {"notes": request["session"].get("notes", [])}


def action(request):
    # Inertia's client posts JSON; a plain form posts fields.
    text = ((request["json"] or {}).get("text") or request["form"].get("text") or "").strip()
    if not text:
        return invalid({"text": "Write something first"}, get_context(request))
    request["session"]["notes"] = request["session"].get("notes", []) + [text]
    return redirect("/notes")
