def get_context(request):
    return {"items": [{"ok": 1}, {"blob": b"\x00\x01"}]}
