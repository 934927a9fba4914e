"""GET/POST /chat: a live chat room (topic `chat:lobby`, declared in routes.yml).

A message arrives as a live call (`live.call("send", {"text": ...})`) or, without
JavaScript, as a form POST; either way it is published to every open page, on every
worker and host sharing the broker. The sender's name comes from the session (/login).
"""
import secrets
import time

from fymo import publish, redirect, status

TOPIC = "chat:lobby"


def get_context(request):
    return {"user": request["session"].get("user"), "last": None}


def action(request):
    if request.get("action") == "send":
        text = (request.get("json") or {}).get("text", "")
    else:
        text = request["form"].get("message", "")
    text = str(text).strip()[:500]
    if not text:
        return status(422, {"error": "Say something."})
    name = request["session"].get("user") or "anonymous"
    message = {"id": secrets.token_hex(8), "from": name, "text": text, "at": time.time()}
    publish(request, TOPIC, event="message", data=message)
    publish(request, TOPIC, patch={"last": {"from": name, "at": message["at"]}})
    if request.get("action"):
        return {"sent": message["id"]}
    return redirect("/chat")
