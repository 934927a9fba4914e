from fymo import not_found, redirect, status


def get_context(request):
    kind = request["params"]["kind"]
    if kind == "redirect":
        return redirect("/conv/module")
    if kind == "status":
        return status(418, {"teapot": True})
    if kind == "missing":
        return not_found()
    if kind == "list":
        return status(200, [1, 2])  # props must be an object
    return {"kind": kind}


def action(request):
    # A location built from user input: a newline must not split the header.
    return redirect("/next\r\nSet-Cookie: evil=1")
