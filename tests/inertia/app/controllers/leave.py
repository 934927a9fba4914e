from fymo import location


def get_context(request):
    # Out of the app's pages: Inertia's client loads the URL whole.
    return location("/about?from=leave")
