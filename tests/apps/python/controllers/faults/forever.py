def get_context(request):
    while True:
        pass
