def get_context(request):
    return {key: request[key] for key in ("method", "path", "params", "query", "cookies", "form", "json")} | {
        "header": request["headers"].get("x-test-header"),
        "tags": request["form"].getlist("tag"),
        "qs": request["query"].getlist("q"),
        "none": request["form"].getlist("missing"),
    }


def action(request):
    return {"posted": True} | get_context(request)
