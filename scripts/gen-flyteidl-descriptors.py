"""Write the FileDescriptorSet of flyteidl's .proto files, as shipped compiled into the `flyteidl` PyPI
package, to proto/flyteidl.fds.bin.

The Rust types are generated from this set by proto/build.rs with prost-build, so the build needs neither
protoc nor a download. Re-run after changing the pinned flyteidl version (scripts/setup-python.sh pins it
through flytekit):

    "$(scripts/setup-python.sh | tail -n1)" scripts/gen-flyteidl-descriptors.py
"""

import importlib
import pathlib
import pkgutil
import sys

import flyteidl
from google.protobuf import descriptor_pb2

OUT = pathlib.Path(__file__).resolve().parent.parent / "proto" / "flyteidl.fds.bin"


def main() -> None:
    files = {}

    def add(fd) -> None:
        if fd.name in files:
            return
        for dep in fd.dependencies:
            add(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        files[fd.name] = proto

    for info in sorted(pkgutil.walk_packages(flyteidl.__path__, "flyteidl."), key=lambda m: m.name):
        if info.name.endswith("_pb2"):
            add(importlib.import_module(info.name).DESCRIPTOR)

    fds = descriptor_pb2.FileDescriptorSet()
    # Dependencies come before their dependents (add() is post-order); sort the rest for stable bytes.
    fds.file.extend(files.values())
    OUT.write_bytes(fds.SerializeToString(deterministic=True))
    version = importlib.metadata.version("flyteidl")
    (OUT.parent / "FLYTEIDL_VERSION").write_text(version + "\n")
    print(f"wrote {len(files)} files of flyteidl {version} to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    import importlib.metadata

    main()
