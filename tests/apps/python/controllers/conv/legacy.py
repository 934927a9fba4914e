def getContext():
    return {"convention": "getContext"}
