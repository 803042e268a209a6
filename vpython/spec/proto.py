"""The ``vpython.Spec`` protobuf message, built from descriptors at import time.

Why descriptors instead of a generated ``spec_pb2.py``: generated code pins the
protobuf runtime version it was generated for (gencode/runtime checks), while a
``FileDescriptorProto`` built here works with any protobuf >= 4.21 and keeps the
schema readable next to the code that uses it.

Schema (luci-go ``vpython/api/vpython/spec.proto`` and ``pep425.proto``, proto3)::

    message PEP425Tag { string python = 1; string abi = 2; string platform = 3; }
    message Spec {
      string python_version = 1;
      message Package {
        string name = 1; string version = 2;
        repeated PEP425Tag match_tag = 3; repeated PEP425Tag not_match_tag = 4;
      }
      repeated Package wheel = 2;
      Package virtualenv = 3;   // retired upstream; kept so old files still parse
      repeated PEP425Tag verify_pep425_tag = 4;
    }

Cold path only: importing this module imports protobuf.
"""

from __future__ import annotations

from typing import Any

# No types-protobuf in the toolchain: protobuf is Any here, as the generated classes are.
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # type: ignore[import-untyped]

_F = descriptor_pb2.FieldDescriptorProto
_STRING, _MESSAGE = _F.TYPE_STRING, _F.TYPE_MESSAGE
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED


def _file_descriptor() -> Any:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="vpython/api/vpython/spec.proto", package="vpython", syntax="proto3"
    )

    tag = fdp.message_type.add(name="PEP425Tag")
    for number, name in enumerate(("python", "abi", "platform"), 1):
        tag.field.add(name=name, number=number, type=_STRING, label=_OPTIONAL)

    spec = fdp.message_type.add(name="Spec")
    spec.field.add(name="python_version", number=1, type=_STRING, label=_OPTIONAL)
    pkg = spec.nested_type.add(name="Package")
    pkg.field.add(name="name", number=1, type=_STRING, label=_OPTIONAL)
    pkg.field.add(name="version", number=2, type=_STRING, label=_OPTIONAL)
    pkg.field.add(name="match_tag", number=3, type=_MESSAGE, label=_REPEATED, type_name=".vpython.PEP425Tag")
    pkg.field.add(
        name="not_match_tag", number=4, type=_MESSAGE, label=_REPEATED, type_name=".vpython.PEP425Tag"
    )
    spec.field.add(name="wheel", number=2, type=_MESSAGE, label=_REPEATED, type_name=".vpython.Spec.Package")
    spec.field.add(
        name="virtualenv", number=3, type=_MESSAGE, label=_OPTIONAL, type_name=".vpython.Spec.Package"
    )
    spec.field.add(
        name="verify_pep425_tag", number=4, type=_MESSAGE, label=_REPEATED, type_name=".vpython.PEP425Tag"
    )
    return fdp


def _message_class(pool: Any, full_name: str) -> Any:
    descriptor = pool.FindMessageTypeByName(full_name)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:  # protobuf >= 4.22
        return get(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # pragma: no cover


# A private pool: another library registering its own "vpython.Spec" in the default
# pool must not clash with ours.
_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file_descriptor())

Spec = _message_class(_POOL, "vpython.Spec")
PEP425Tag = _message_class(_POOL, "vpython.PEP425Tag")
Package = Spec.Package

# Fields that parse but are ignored with a warning (removed from the upstream schema).
RETIRED_FIELDS = frozenset({"virtualenv"})
