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


def get_context(request):
    return {
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 5, 6),
        "price": decimal.Decimal("19.99"),
        "tags": {"b", "a", "c"},
        "point": Point(1, 2),
        "pair": (1, "two"),
        "color": Color.RED,
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "counts": {1: "one"},
    }
