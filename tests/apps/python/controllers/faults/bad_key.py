def get_context(request):
    return {"nested": {("a", "b"): 1}}
