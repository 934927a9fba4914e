context = {"convention": "context", "items": [1, 2, 3]}
