"""vpython.artifacts.sbom: a deterministic CycloneDX 1.5 document from locked artifacts."""

from __future__ import annotations

import json

from vpython.artifacts import sbom
from vpython.lock.pylock import Artifact
from vpython.lock.targets import parse_target

TARGET = parse_target("cp311-cp311-manylinux_2_28_aarch64", [])[0]
ARTS = [
    Artifact("Typing_Extensions", "4.16.0", "typing_extensions-4.16.0-py3-none-any.whl", "ab" * 32,
             url="https://files.example/typing_extensions-4.16.0-py3-none-any.whl"),
    Artifact("numpy", "2.4.6", "numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.whl", "cd" * 32),
]


def test_document_lists_every_package_with_purl_and_hash():
    doc = sbom.document(ARTS, artifact_name="app", artifact_format="pex", target=TARGET,
                        artifact_sha256="ef" * 32, lock_sha256="01" * 32)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5" and doc["version"] == 1
    assert "timestamp" not in doc["metadata"]
    names = [c["name"] for c in doc["components"]]
    assert names == ["numpy", "Typing_Extensions"]  # sorted by PEP 503 name
    numpy = next(c for c in doc["components"] if c["name"] == "numpy")
    assert numpy["purl"] == "pkg:pypi/numpy@2.4.6?file_name=numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.whl"
    assert numpy["hashes"] == [{"alg": "SHA-256", "content": "cd" * 32}]
    te = next(c for c in doc["components"] if c["name"] == "Typing_Extensions")
    assert te["purl"].startswith("pkg:pypi/typing-extensions@4.16.0")  # PEP 503 name in the purl
    assert te["externalReferences"] == [{"type": "distribution", "url": ARTS[0].url}]
    main = doc["metadata"]["component"]
    props = {p["name"]: p["value"] for p in main["properties"]}
    assert props == {"vpython:format": "pex", "vpython:platform": "cp311-cp311-manylinux_2_28_aarch64",
                     "vpython:python": "3.11", "vpython:lock-sha256": "01" * 32}
    assert main["hashes"] == [{"alg": "SHA-256", "content": "ef" * 32}]
    deps = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
    assert sorted(deps["artifact"]) == sorted(c["bom-ref"] for c in doc["components"])


def test_same_input_same_bytes_and_serial_follows_content():
    a = sbom.render(sbom.document(ARTS, artifact_name="app", artifact_format="venv", target=TARGET,
                                  artifact_sha256="ef" * 32))
    b = sbom.render(sbom.document(list(reversed(ARTS)), artifact_name="app", artifact_format="venv",
                                  target=TARGET, artifact_sha256="ef" * 32))
    assert a == b
    c = sbom.document(ARTS, artifact_name="app", artifact_format="venv", target=TARGET, artifact_sha256="00" * 32)
    assert json.loads(a)["serialNumber"] != c["serialNumber"]
    assert c["serialNumber"].startswith("urn:uuid:")


def test_tools_name_vpython_and_what_shaped_the_bytes():
    from vpython import __version__

    doc = sbom.document(ARTS, artifact_name="app", artifact_format="pex", target=TARGET, artifact_sha256="ef" * 32,
                        tools=[{"type": "application", "name": "pex", "version": "2.105.2"}])
    tools = doc["metadata"]["tools"]["components"]
    assert [(t["name"], t["version"]) for t in tools] == [("vpython", __version__), ("pex", "2.105.2")]
    other = sbom.document(ARTS, artifact_name="app", artifact_format="pex", target=TARGET, artifact_sha256="ef" * 32,
                          tools=[{"type": "application", "name": "pex", "version": "2.106.0"}])
    assert other["serialNumber"] != doc["serialNumber"]


def test_pex_build_environment_ignores_rc_files_and_callers_settings():
    from vpython.artifacts import pex_file

    env = pex_file.build_env({"PATH": "/bin", "PEX_ROOT": "/x", "PIP_INDEX_URL": "http://evil", "HOME": "/h"})
    assert env["PEX_IGNORE_RCFILES"] == "1" and env["PYTHONHASHSEED"] == "0"
    assert "PEX_ROOT" not in env and "PIP_INDEX_URL" not in env and env["PATH"] == "/bin"


def test_built_with_reads_the_pex_version_from_pex_info(tmp_path):
    import zipfile

    import pytest

    from vpython.artifacts import pex_file
    from vpython.errors import VPythonError

    with zipfile.ZipFile(tmp_path / "a.pex", "w") as zf:
        zf.writestr("PEX-INFO", json.dumps({"build_properties": {"pex_version": "2.99.1"}}))
    assert pex_file.built_with(str(tmp_path / "a.pex")) == "2.99.1"
    with zipfile.ZipFile(tmp_path / "b.pex", "w") as zf:
        zf.writestr("PEX-INFO", "{}")
    with pytest.raises(VPythonError, match="pex_version"):
        pex_file.built_with(str(tmp_path / "b.pex"))
