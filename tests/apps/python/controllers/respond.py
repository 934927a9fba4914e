from fymo import not_found, redirect, status


def get_context(request):
    kind = request["params"]["kind"]
    if kind == "redirect":
        return redirect("/conv/module")
    if kind == "status":
        return status(418, {"teapot": True})
    if kind == "missing":
        return not_found()
    return {"kind": kind}
