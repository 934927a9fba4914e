def get_context(request):
    return {"greeting": "Hello from Fymo", "items": ["one", "two", "</script><b>three</b>"]}
