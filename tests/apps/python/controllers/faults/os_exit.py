import os


def get_context(request):
    os._exit(7)
