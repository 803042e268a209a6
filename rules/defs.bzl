"""Public rules of vpython for Bazel. Load from here only; everything else is private.

    load("@vpython//rules:defs.bzl", "py_vpython_binary", "py_vpython_test", "vpython_lock")

    py_vpython_binary(
        name = "app",
        main = "app.py",
        deps = ["@pypi//:wheels"],     # from vpython_locked_wheels(name = "pypi", lock = ...)
        artifact = "venv",             # or "pex"
    )
"""

load("//rules/private:binary.bzl", _py_vpython_binary = "py_vpython_binary", _py_vpython_test = "py_vpython_test")
load("//rules/private:lock.bzl", _vpython_lock = "vpython_lock")
load("//rules/private:providers.bzl", _VpythonToolDepsInfo = "VpythonToolDepsInfo", _VpythonWheelsInfo = "VpythonWheelsInfo")
load("//rules/private:tool.bzl", _vpython_tool = "vpython_tool", _vpython_tool_deps_set = "vpython_tool_deps_set")
load("//rules/private:wheels.bzl", _vpython_wheel_set = "vpython_wheel_set")
load("//toolchains:toolchain.bzl", _VpythonToolchainInfo = "VpythonToolchainInfo", _vpython_toolchain = "vpython_toolchain")

py_vpython_binary = _py_vpython_binary
py_vpython_test = _py_vpython_test
vpython_lock = _vpython_lock

# Building blocks for your own toolchains (e.g. an interpreter label: vpython_tool's
# `interpreter` attribute) and for the repositories vpython_locked_wheels and
# vpython_register_toolchains generate.
vpython_tool = _vpython_tool
vpython_tool_deps_set = _vpython_tool_deps_set
vpython_toolchain = _vpython_toolchain
vpython_wheel_set = _vpython_wheel_set

VpythonToolDepsInfo = _VpythonToolDepsInfo
VpythonWheelsInfo = _VpythonWheelsInfo
VpythonToolchainInfo = _VpythonToolchainInfo
