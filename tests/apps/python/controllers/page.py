def get_context(request):
    return {"name": request["params"]["name"]}
