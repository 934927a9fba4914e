"""GET /greet/{name}: a Python controller reading a path parameter."""
import datetime


def get_context(request):
    name = request["params"]["name"]
    return {
        "name": name,
        "shout": request["query"].get("shout") == "1",
        # Converted by Fymo's documented rule: ISO 8601 text.
        "served_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
    }
