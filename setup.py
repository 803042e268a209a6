"""Build hooks only; the project's metadata is in pyproject.toml.

``build_scripts`` compiles the native warm-path launcher (launcher/) and installs it as
``vpython`` and ``vpython3`` in place of the Python scripts, with the pure-Python command
beside them as ``vpython-py`` (the launcher's fallback). The wheel is then tagged
``py3-none-<platform>``: the launcher does not depend on the Python ABI, only on the OS and
CPU. Without a working C compiler (or with ``VPYTHON_NO_LAUNCHER=1``, or on a platform the
launcher does not support) the build still succeeds: ``vpython`` / ``vpython3`` are the
Python scripts and the wheel stays ``py3-none-any``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sysconfig

from setuptools import setup

try:
    from setuptools.command.build_scripts import build_scripts as _build_scripts
except ImportError:  # setuptools without its own subclass: distutils' (setuptools' vendored copy)
    from distutils.command.build_scripts import build_scripts as _build_scripts

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel  # setuptools >= 70.1
except ImportError:  # pragma: no cover - older setuptools use the wheel package's
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER_NAMES = ("vpython", "vpython3")


def _launcher_module():
    path = os.path.join(HERE, "launcher", "build_launcher.py")
    if not os.path.isfile(path):  # e.g. an sdist made without launcher/
        return None
    spec = importlib.util.spec_from_file_location("vpython_build_launcher", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class build_scripts(_build_scripts):
    def run(self):
        # Always copy: a launcher left in build/ by an earlier build must not survive a
        # build that falls back to the Python scripts.
        self.force = True
        super().run()
        self.distribution.vpython_launcher = False
        if self.dry_run:
            return
        builder = _launcher_module()
        why = "launcher/ is missing from this source tree" if builder is None else None
        if builder is not None:
            binary = os.path.join(self.build_dir, ".vpython-launcher")
            why = builder.build(binary, builder.vpython_version(HERE))
        if why:
            self.warn(f"native launcher not built, installing the Python vpython scripts: {why}")
            return
        for name in LAUNCHER_NAMES:
            shutil.copy2(binary, os.path.join(self.build_dir, name))
        os.unlink(binary)
        self.distribution.vpython_launcher = True


cmdclass = {"build_scripts": build_scripts}

if _bdist_wheel is not None:

    class bdist_wheel(_bdist_wheel):
        def get_tag(self):
            tag = super().get_tag()
            if getattr(self.distribution, "vpython_launcher", False):
                plat = sysconfig.get_platform().replace("-", "_").replace(".", "_").replace(" ", "_")
                return ("py3", "none", plat)
            return tag

    cmdclass["bdist_wheel"] = bdist_wheel

setup(cmdclass=cmdclass)
