def get_context(request):
    return {"convention": "get_context", "path": request["path"]}
