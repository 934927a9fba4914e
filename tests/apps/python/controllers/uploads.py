"""POST /uploads: reports what arrived, and whether the temporary files exist now."""
import hashlib
import os


def action(request):
    files = []
    for f in request["files"]:
        with open(f["path"], "rb") as data:
            digest = hashlib.sha256(data.read()).hexdigest()
        files.append({"field": f["field"], "name": f["name"], "type": f["content_type"],
                      "size": f["size"], "sha256": digest, "path": f["path"], "exists": os.path.exists(f["path"])})
    return {"files": files, "form": request["form"]}
