"""Host tag lists and marker environments of real interpreters, for the spec/ tests.

A host tag list is what ``packaging.tags.sys_tags()`` reports on that machine, built with
``packaging.tags`` for a given Python and platform list.
"""

from __future__ import annotations

from packaging import tags as ptags


def linux_platforms(arch: str = "x86_64", glibc_minor: int = 36) -> list:
    plats = [f"linux_{arch}"]
    aliases = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for minor in range(glibc_minor, 4, -1):
        plats.append(f"manylinux_2_{minor}_{arch}")
        if minor in aliases and (arch in ("x86_64", "i686") or minor == 17):
            plats.append(f"{aliases[minor]}_{arch}")
    return plats


def cpython_host(py=(3, 11), platforms=None) -> list:
    platforms = platforms or linux_platforms()
    interp = f"cp{py[0]}{py[1]}"
    abi = interp + ("mu" if py[0] == 2 else "")
    out = list(ptags.cpython_tags(py, abis=[abi], platforms=platforms))
    return out + list(ptags.compatible_tags(py, interp, platforms))


LINUX_311 = cpython_host((3, 11), linux_platforms("x86_64"))
LINUX_38 = cpython_host((3, 8), linux_platforms("x86_64"))
LINUX_ARM_311 = cpython_host((3, 11), linux_platforms("aarch64"))
MAC_ARM_38 = cpython_host((3, 8), list(ptags.mac_platforms((14, 0), "arm64")))
MAC_ARM_311 = cpython_host((3, 11), list(ptags.mac_platforms((14, 0), "arm64")))
MAC_X86_38 = cpython_host((3, 8), list(ptags.mac_platforms((14, 0), "x86_64")))
WIN_311 = cpython_host((3, 11), ["win_amd64"])
WIN32_38 = cpython_host((3, 8), ["win32"])
LINUX_27 = cpython_host((2, 7), linux_platforms("x86_64"))
MIPS_27 = cpython_host((2, 7), ["linux_mips64"])


def marker_env(python: str, sys_platform: str, machine: str, impl: str = "cpython") -> dict:
    return {
        "implementation_name": impl if not python.startswith("2") else "",
        "implementation_version": python + ".0",
        "os_name": "nt" if sys_platform == "win32" else "posix",
        "platform_machine": machine,
        "platform_release": "",
        "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[sys_platform],
        "platform_version": "",
        "python_full_version": python + ".0",
        "platform_python_implementation": "CPython",
        "python_version": python,
        "sys_platform": sys_platform,
    }


# (environment, the host tag list the same interpreter reports)
HOSTS = {
    "linux-x86_64-3.11": (marker_env("3.11", "linux", "x86_64"), LINUX_311),
    "linux-x86_64-3.8": (marker_env("3.8", "linux", "x86_64"), LINUX_38),
    "linux-aarch64-3.11": (marker_env("3.11", "linux", "aarch64"), LINUX_ARM_311),
    "mac-arm64-3.8": (marker_env("3.8", "darwin", "arm64"), MAC_ARM_38),
    "mac-arm64-3.11": (marker_env("3.11", "darwin", "arm64"), MAC_ARM_311),
    "mac-x86_64-3.8": (marker_env("3.8", "darwin", "x86_64"), MAC_X86_38),
    "win-amd64-3.11": (marker_env("3.11", "win32", "AMD64"), WIN_311),
    "win-x86-3.8": (marker_env("3.8", "win32", "x86"), WIN32_38),
    "linux-x86_64-2.7": (marker_env("2.7", "linux", "x86_64"), LINUX_27),
    "linux-mips64-2.7": (marker_env("2.7", "linux", "mips64"), MIPS_27),
}
