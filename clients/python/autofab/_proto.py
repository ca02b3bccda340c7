"""The generated protobuf modules (envelope_pb2, registry_pb2).

They are generated from proto/*.proto at build time (`make`, into
build/python/) and never committed.  They are looked for in
$AUTOFAB_PROTO_PY, then in the build folder of the source tree this package
sits in (clients/python/autofab -> ../../../build/python).
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_CANDIDATES = [
    os.environ.get("AUTOFAB_PROTO_PY", ""),
    os.path.join(_HERE, "..", "..", "..", "build", "python"),
]

for _dir in _CANDIDATES:
    if _dir and os.path.isfile(os.path.join(_dir, "envelope_pb2.py")):
        if _dir not in sys.path:
            sys.path.insert(0, _dir)
        break
else:
    raise ImportError(
        "autofab: the generated protobuf modules are missing; run `make` in the "
        "autofab tree (it writes build/python/*_pb2.py) or set AUTOFAB_PROTO_PY")

import envelope_pb2 as pb      # noqa: E402  (path set up above)
import registry_pb2 as ctl     # noqa: E402

__all__ = ["pb", "ctl"]
