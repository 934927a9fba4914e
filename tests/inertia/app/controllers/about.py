def get_context(request):
    return {"title": "About Inertia on Fymo"}
