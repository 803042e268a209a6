"""Sdists in a selection become the wheels built from them, before anything else sees them.

A lock (the user's, or the resolution cached for a spec) may select an sdist for this
interpreter: a pinned version that publishes no wheel it can install. ``realize`` hands
each such sdist to the builder (vpython.store.sdists: fetched and checked against the
lock's sha256 first, built once per sdist, ABI and platform, kept in the store) and puts
the built wheel in its place: from here on it is a wheel like any other, and its own
sha256 is what the env key, the env's manifest and the per-digest plan record. The
Artifact keeps the sdist's sha256 in ``built_from`` (for the plan's validity check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vpython.interpreters.model import Interpreter
    from vpython.lock.pylock import Artifact
    from vpython.settings.sources import Sources
    from vpython.store.root import Layout
    from vpython.store.sdists import SdistRef


def sdist_ref(artifact: Artifact) -> SdistRef:
    """The builder's record of a selected sdist."""
    from vpython.store.sdists import SdistRef

    return SdistRef(
        name=artifact.name,
        version=artifact.version,
        filename=artifact.filename,
        sha256=artifact.sha256,
        url=artifact.url,
        path=artifact.path,
        size=artifact.size,
        direct_url=artifact.direct_url,
    )


def realize(
    artifacts: Sequence[Artifact],
    interp: Interpreter,
    sources: Sources,
    layout: Layout,
    wheel_dirs: tuple[str, ...] = (),
) -> list[Artifact]:
    """``artifacts`` with every sdist replaced by the wheel built from it (see the module
    docstring). Raises what the builder raises: a refusal under --only-binary, a hash
    mismatch before any build, a failed build with its log."""
    if not any(a.kind == "sdist" for a in artifacts):
        return list(artifacts)
    import dataclasses

    from vpython.store.sdists import built_wheel

    out = []
    for a in artifacts:
        if a.kind != "sdist":
            out.append(a)
            continue
        w = built_wheel(
            sdist_ref(a), interp, sources, layout, allow_build=not sources.only_binary, wheel_dirs=wheel_dirs
        )
        out.append(
            dataclasses.replace(
                a,
                filename=w.filename,
                sha256=w.sha256,
                url=None,
                path=w.path,
                size=w.size,
                kind="wheel",
                built_from=a.sha256,
            )
        )
    return out
