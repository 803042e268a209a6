"""`vpython_toolchains_repo`: the repository behind `vpython_register_toolchains`.

It looks at the host once (its OS and CPU, and which interpreter runs the tool there) and
writes:
  * `:vpython`: the vpython tool for the host's exec platform: this checkout's `vpython/`
    sources (symlinked in as `vpython_src/vpython`), the tool's own dependencies from
    `@<name>_deps_<platform>` (wheels of vpython's tool lock) and the interpreter, either a
    host path (the default: nothing needs to be installed in it) or a label;
    `:vpython_exec_<platform>` likewise for each other exec platform of `exec_interpreters`
    (remote execution), whose interpreter is a label;
  * one `vpython_toolchain` and one `toolchain()` per (exec platform, target platform):
    `:<target>` for the host, `:exec_<platform>_<target>` for the others;
  * `host_python/pythonX.Y`, a symlink to a host-path interpreter: the host platform's
    toolchain hands it to launchers as the interpreter of `bazel run`/`bazel test`
    (VPYTHON_PYTHON), as a runfile, so no launcher contains the host's absolute path.

Problems found here (a too old interpreter, a host platform the tool lock cannot serve)
become the tool's `problem`, reported with fail() when a vpython target is analysed:
failing this repository would break unrelated builds, since Bazel fetches every registered
toolchain repository during toolchain resolution.
"""

load("//toolchains:platforms.bzl", "HOST_CPUS", "PLATFORMS", "PLATFORM_KEYS", "host_os", "platform_key")
load(":tool_deps_repo.bzl", "sorted_versions", "tool_wheels_for_platform")
load(":utils.bzl", "is_python_version", "starlark_list")
load(":wheels_repo.bzl", "PYTHON_ENV", "TOOL_LOCK", "find_python", "tool_lock_model")

MIN_TOOL_PYTHON = (3, 9)

def _who(rctx):
    return "vpython_register_toolchains(name = %r)" % rctx.attr.name

def _host_cpu(rctx):
    result = rctx.execute(["uname", "-m"]) if host_os(rctx.os.name) != "windows" else None
    machine = result.stdout.strip().lower() if result and result.return_code == 0 else ""
    if not machine:
        machine = rctx.os.environ.get("PROCESSOR_ARCHITECTURE", "").lower()
    return HOST_CPUS.get(machine), machine

def _absolute_label(who, value):
    """A label string usable from the generated repository (`//x` would mean this repo)."""
    if value.startswith("//"):
        return "@" + value
    if value.startswith("@"):
        return value
    fail("%s: exec_interpreters value %r is not an absolute label.\nFix: write it with its repository, e.g. \"@python_3_11_linux//:bin/python3\" (\"@//tools:python3\" for your main repository)." % (who, value))

def _probe(rctx, who, python, what):
    probe = rctx.execute([python, "-B", "-E", "-s", "-S", rctx.path(Label("//rules/private:probe_python.py"))])
    if probe.return_code != 0:
        fail("%s: cannot run %s %s: %s\nFix: set python_interpreter to a working Python 3 (3.9 or newer)." % (who, what, python, probe.stderr.strip()))
    return json.decode(probe.stdout)

def interpreter_problem(info, what):
    """Why the probed interpreter cannot run the vpython tool (with the fix), or "".

    Args:
      info: probe_python.py's answer.
      what: how to name the interpreter, e.g. "the host Python /usr/bin/python3".

    Returns:
      A message for vpython_tool's `problem`, or "".
    """
    parts = [int(p) for p in info["version"].split(".")[:2]]
    fix = "\nFix: point vpython_register_toolchains at CPython 3.9 or newer (python_interpreter = \"/usr/bin/python3.11\", exec_interpreters, or $%s); nothing needs to be installed in it." % PYTHON_ENV
    if (parts[0], parts[1]) < MIN_TOOL_PYTHON:
        return "%s is Python %s; the vpython tool needs 3.9 or newer.%s" % (what, info["version"], fix)
    if info["implementation"] != "cpython":
        return "%s is %s; vpython's tool lock has wheels for CPython only.%s" % (what, info["implementation"], fix)
    return ""

def _lock_coverage_problem(rctx, who, host, host_key, major_minor):
    doc, _, _ = tool_lock_model(rctx, who)
    pythons, covered = tool_wheels_for_platform(doc, host_key)
    if not pythons:
        return "vpython's tool lock %s has no wheels for this host's platform %s (it covers: %s).\nFix: run vpython's actions on a covered platform (exec_interpreters, remote execution), or lock the tool for it: add it to PLATFORMS in tools/bazel/lock_tool.py and run that script." % (
            TOOL_LOCK,
            host_key,
            ", ".join(covered),
        )
    if major_minor not in pythons:
        return "%s is Python %s, which vpython's tool lock %s does not cover on %s (it has %s).\nFix: point vpython_register_toolchains at one of those (python_interpreter, exec_interpreters or $%s), or add %s to PYTHONS in tools/bazel/lock_tool.py and run that script." % (
            host["what"],
            major_minor,
            TOOL_LOCK,
            host_key,
            ", ".join(sorted_versions(pythons.keys())),
            PYTHON_ENV,
            major_minor,
        )
    return ""

def _fingerprint(info):
    return "%s %s %s" % (info["implementation"], info["version"], info.get("abi", ""))

def _tool(name, deps, interpreter, fingerprint = "", problem = ""):
    lines = ["vpython_tool(\n    name = %r,\n    srcs = [\":vpython_srcs\"],\n" % name]
    if fingerprint:
        lines.append("    fingerprint = %r,\n" % fingerprint)
    lines.append("    %s = %r,\n" % interpreter)
    if problem:
        lines.append("    problem = %r,\n" % problem)
    if deps:  # buildifier's attribute order puts deps last
        lines.append("    deps = %r,\n" % deps)
    lines.append(")\n")
    return "".join(lines)

def _toolchain(name, key, exec_constraints, tool, interpreter, python_version, tag, run_python):
    p = PLATFORMS[key]
    return """
vpython_toolchain(
    name = {name},
    cpu = {cpu},
    interpreter = {interpreter},
    os = {os},
    platform_tag = {tag},
    python_version = {version},{run_python}
    vpython = {tool},
)

toolchain(
    name = {toolchain},
    exec_compatible_with = {exec_constraints},
    target_compatible_with = [
        {os_label},
        {cpu_label},
    ],
    toolchain = {target},
    toolchain_type = {toolchain_type},
)
""".format(
        cpu = repr(p["cpu"]),
        cpu_label = repr(str(Label("@platforms//cpu:" + p["cpu"]))),
        exec_constraints = starlark_list(exec_constraints, 4),
        interpreter = repr(interpreter),
        name = repr(name),
        os = repr(p["os"]),
        os_label = repr(str(Label("@platforms//os:" + p["os"]))),
        run_python = "" if not run_python else "\n    run_python = %r,\n    run_python_version = %r," % run_python,
        tag = repr(tag),
        target = repr(":" + name),
        tool = repr(tool),
        toolchain = repr(name + "_toolchain"),
        toolchain_type = repr(str(Label("//toolchains:toolchain_type"))),
        version = repr(python_version),
    )

def _constraints(os, cpu):
    out = []
    if os:
        out.append(str(Label("@platforms//os:" + os)))
    if cpu:
        out.append(str(Label("@platforms//cpu:" + cpu)))
    return out

def _host_interpreter(rctx, who, host_key, exec_interpreters):
    """How the host's tool runs: {"attr": (name, value), "info", "run_python", "what"}."""
    if host_key in exec_interpreters:
        label = exec_interpreters[host_key]
        info = _probe(rctx, who, rctx.path(Label(label)), "the interpreter")
        return {"attr": ("interpreter", label), "info": info, "run_python": label, "what": "the interpreter %s" % label}
    python = find_python(rctx, rctx.attr.python_interpreter, who)
    info = _probe(rctx, who, python, "the Python at")
    return {"attr": ("interpreter_path", info["executable"]), "info": info, "run_python": None, "what": "the host Python %s" % info["executable"]}

def _vpython_toolchains_repo_impl(rctx):
    who = _who(rctx)
    checkout = rctx.path(Label("//rules:BUILD.bazel")).dirname.dirname
    sources = checkout.get_child("vpython")
    if not sources.get_child("__init__.py").exists:
        fail("%s: %s has no vpython package (vpython/__init__.py).\nFix: use a complete vpython checkout or release archive as the @vpython repository." % (who, checkout))

    # Not at the root: the tool target is also called `vpython`, and runfiles paths must not clash.
    rctx.symlink(sources, "vpython_src/vpython")

    exec_interpreters = {}
    for key, label in rctx.attr.exec_interpreters.items():
        if key not in PLATFORMS:
            fail("%s: exec_interpreters has unknown platform %r.\nFix: use keys from %s." % (who, key, ", ".join(PLATFORM_KEYS)))
        exec_interpreters[key] = _absolute_label(who, label)

    exec_os = host_os(rctx.os.name)
    exec_cpu, machine = _host_cpu(rctx)
    host_key = platform_key(exec_os, exec_cpu)
    host = _host_interpreter(rctx, who, host_key, exec_interpreters)
    info = host["info"]
    major_minor = ".".join(info["version"].split(".")[:2])
    python_version = rctx.attr.python_version or major_minor
    if not is_python_version(python_version):
        fail("%s: python_version %r is not X.Y.\nFix: e.g. python_version = \"3.11\"." % (who, python_version))
    tags = dict([(k, PLATFORMS[k]["tag"]) for k in PLATFORM_KEYS])
    for key, tag in rctx.attr.platform_tags.items():
        if key not in tags:
            fail("%s: platform_tags has unknown platform %r.\nFix: use keys from %s." % (who, key, ", ".join(PLATFORM_KEYS)))
        tags[key] = tag

    problem = interpreter_problem(info, host["what"])
    if not host_key:
        problem = "this host (os %s, cpu %s) is not an exec platform vpython's tool lock covers (%s).\nFix: run vpython's actions on one of those (remote execution with exec_interpreters), or lock the tool for it: tools/bazel/lock_tool.py." % (
            exec_os or rctx.os.name,
            machine,
            ", ".join(PLATFORM_KEYS),
        )
    if not problem:
        problem = _lock_coverage_problem(rctx, who, host, host_key, major_minor)
    run_python = None
    lines = []
    if host["run_python"]:
        run_python = (host["run_python"], major_minor)
    elif not problem:
        run_python_name = "host_python/python" + major_minor
        rctx.symlink(info["executable"], run_python_name)
        run_python = (":" + run_python_name, major_minor)
        lines.append("# The host Python, for running host-platform artifacts (see the host toolchain's run_python).\n")
        lines.append("exports_files([%r])\n\n" % run_python_name)
    fingerprint = _fingerprint(info)
    prefix = rctx.attr.deps_repo_prefix or (rctx.attr.name + "_deps_")

    header = [
        "# Generated by %s. Host tool interpreter: %s (%s).\n\n" % (who, host["attr"][1], fingerprint),
        "load(%r, \"vpython_tool\", \"vpython_toolchain\")\n\n" % str(Label("//rules:defs.bzl")),
        "package(default_visibility = [\"//visibility:public\"])\n\n",
    ]
    lines = header + lines + [
        "filegroup(\n    name = \"vpython_srcs\",\n    srcs = glob([\"vpython_src/vpython/**/*.py\"]),\n)\n\n",
        # Only the probed Python's wheels: fewer inputs for every action's sandbox.
        _tool("vpython", "" if problem else "@%s%s//:tool_deps_%s" % (prefix, host_key, major_minor), host["attr"], fingerprint, problem),
    ]
    for key in sorted(exec_interpreters.keys()):
        if key != host_key:
            lines.append("\n" + _tool("vpython_exec_" + key, "@%s%s//:tool_deps" % (prefix, key), ("interpreter", exec_interpreters[key])))

    host_constraints = _constraints(exec_os, exec_cpu)
    for key in PLATFORM_KEYS:
        lines.append(_toolchain(key, key, host_constraints, ":vpython", host["attr"][1], python_version, tags[key], run_python if key == host_key else None))
    for exec_key in sorted(exec_interpreters.keys()):
        if exec_key == host_key:
            continue
        constraints = _constraints(PLATFORMS[exec_key]["os"], PLATFORMS[exec_key]["cpu"])
        for key in PLATFORM_KEYS:
            lines.append(_toolchain("exec_%s_%s" % (exec_key, key), key, constraints, ":vpython_exec_" + exec_key, exec_interpreters[exec_key], python_version, tags[key], None))
    rctx.file("BUILD.bazel", "".join(lines))
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.attr.name)

vpython_toolchains_repo = repository_rule(
    implementation = _vpython_toolchains_repo_impl,
    doc = "Generates the vpython tool and one toolchain per (exec, target) platform (see vpython_register_toolchains).",
    attrs = {
        "deps_repo_prefix": attr.string(
            doc = "Name prefix of the tool dependency repositories (`<prefix><platform>`); " +
                  "default: `<name>_deps_`.",
        ),
        "exec_interpreters": attr.string_dict(
            doc = "Interpreters as labels per exec platform (a key of toolchains/platforms.bzl), " +
                  "e.g. {\"linux_x86_64\": \"@python_3_11_linux//:bin/python3\"}. The host's own " +
                  "platform's entry replaces the host Python; the others add toolchains for " +
                  "remote execution on those platforms.",
        ),
        "platform_tags": attr.string_dict(
            doc = "Override the PEP 425 platform tag of some target platforms, e.g. " +
                  "{\"linux_x86_64\": \"manylinux_2_28_x86_64\"}.",
        ),
        "python_interpreter": attr.string(
            doc = "Host Python 3.9+ that runs the vpython tool (nothing needs to be installed " +
                  "in it). Default: $VPYTHON_BAZEL_PYTHON, else python3 on PATH.",
        ),
        "python_version": attr.string(
            doc = "Target Python X.Y for the artifacts. Default: the tool interpreter's version.",
        ),
    },
    environ = ["PATH", PYTHON_ENV],
    local = True,
)
