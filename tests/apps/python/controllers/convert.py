import dataclasses
import datetime
import decimal
import enum
import uuid


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


def nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def get_context(request):
    if request["query"].get("deep"):
        return {"deep": nested(int(request["query"]["deep"]))}
    if request["query"].get("edge"):
        # What orjson refuses or writes differently: the slow path's rules apply.
        return {
            "nan": float("nan"),
            "inf": [float("inf"), float("-inf")],
            "keys": {2: "int", 1.5: "float", True: "bool", None: "none"},
            "big": 2**70,
        }
    return {
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 5, 6),
        "price": decimal.Decimal("19.99"),
        "tags": {"b", "a", "c"},
        "point": Point(1, 2),
        "pair": (1, "two"),
        "color": Color.RED,
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "text": "é 😀 \u2028 </script> 'quoted' \"double\"",
        "time": datetime.time(7, 8, 9, 123),
        "naive": datetime.datetime(2024, 5, 6, 7, 8, 9, 500),
        "frozen": frozenset([3, 1, 2]),
        "mixed": {"b", 1},
        "nested": {"list": [Point(3, 4), Color.RED, None, True, 1.5, -0.0]},
    }
