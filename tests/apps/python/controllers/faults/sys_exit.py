import sys


def get_context(request):
    sys.exit(3)
