"""A CycloneDX 1.5 SBOM for an artifact, generated from the lock.

One ``library`` component per installed wheel: name, version, a ``pkg:pypi`` purl (with
the wheel's ``file_name`` qualifier, so the exact file is named), the wheel's SHA-256
from the lock, and its download URL when the lock has one. ``metadata.component``
describes the artifact itself (format, target platform, Python, content hash when it is
known); ``metadata.tools`` names vpython and the tools whose version shapes the bytes
(pex for a pex, installer for a venv tree). Deterministic: no timestamp; the serial number is a UUID derived from the
document's own content.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from vpython import __version__

if TYPE_CHECKING:
    from vpython.lock.pylock import Artifact
    from vpython.lock.targets import Target


def purl(name: str, version: str, filename: str | None = None) -> str:
    from packaging.utils import canonicalize_name

    p = f"pkg:pypi/{quote(str(canonicalize_name(name)), safe='')}@{quote(version, safe='')}"
    if filename:
        p += f"?file_name={quote(filename, safe='')}"
    return p


def document(
    artifacts: Iterable[Artifact],
    *,
    artifact_name: str,
    artifact_format: str,
    target: Target,
    artifact_sha256: str | None,
    lock_sha256: str | None = None,
    tools: Iterable[dict[str, str]] = (),
) -> dict[str, Any]:
    """``tools``: more ``metadata.tools.components`` entries after vpython's own (for a
    pex, the pex version that wrote it: its bytes depend on it)."""
    from packaging.utils import canonicalize_name

    components = [
        _component(a) for a in sorted(artifacts, key=lambda a: (canonicalize_name(a.name), a.filename))
    ]
    refs: list[str] = [c["bom-ref"] for c in components]
    props = [
        {"name": "vpython:format", "value": artifact_format},
        {"name": "vpython:platform", "value": target.key},
        {"name": "vpython:python", "value": target.python_version},
    ]
    if lock_sha256:
        props.append({"name": "vpython:lock-sha256", "value": lock_sha256})
    main: dict[str, Any] = {
        "type": "application",
        "bom-ref": "artifact",
        "name": artifact_name,
        "properties": props,
    }
    if artifact_sha256:
        main["hashes"] = [{"alg": "SHA-256", "content": artifact_sha256}]
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "",
        "version": 1,
        "metadata": {
            "tools": {
                "components": [{"type": "application", "name": "vpython", "version": __version__}, *tools]
            },
            "component": main,
        },
        "components": components,
        "dependencies": [{"ref": "artifact", "dependsOn": refs}]
        + [{"ref": r, "dependsOn": []} for r in refs],
    }
    digest = hashlib.sha256(render(doc)).digest()
    doc["serialNumber"] = f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=5)}"
    return doc


def _component(a: Artifact) -> dict[str, Any]:
    """One installed wheel: a ``library`` whose purl names the exact file."""
    ref = purl(a.name, a.version, a.filename)
    comp: dict[str, Any] = {
        "type": "library",
        "bom-ref": ref,
        "name": a.name,
        "version": a.version,
        "purl": ref,
        "hashes": [{"alg": "SHA-256", "content": a.sha256}],
    }
    if a.url:
        comp["externalReferences"] = [{"type": "distribution", "url": a.url}]
    return comp


def render(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")
