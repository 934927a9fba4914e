def get_context(request):
    return {key: request[key] for key in ("method", "path", "params", "query", "cookies", "form", "json")} | {
        "header": request["headers"].get("x-test-header")
    }


def action(request):
    return {"posted": True} | get_context(request)
