def get_context(request):
    raise ValueError("the controller raised on purpose")
