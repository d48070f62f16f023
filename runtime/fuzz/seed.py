"""Writes the shared zerorpc vectors (each event frame, and its arguments) into corpus/."""

import json
import pathlib
import sys

here = pathlib.Path(__file__).parent
vectors = json.loads(pathlib.Path(sys.argv[1]).read_text())["vectors"]
for target in ("event", "value"):
    (here / "corpus" / target).mkdir(parents=True, exist_ok=True)
for vector in vectors:
    frame = bytes.fromhex(vector["hex"])
    (here / "corpus" / "event" / vector["name"]).write_bytes(frame)
    (here / "corpus" / "value" / vector["name"]).write_bytes(frame)
