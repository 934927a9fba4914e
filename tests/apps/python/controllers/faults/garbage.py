import os
import sys


def get_context(request):
    print("hello from print()")
    sys.stdout.write("\x00\xff not the protocol\n")
    os.write(1, b"\xde\xad\xbe\xef raw bytes on fd 1\n")
    return {"survived": True}
