def get_context(request):
    return {"version": 1}
