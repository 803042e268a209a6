"""Fake Bazel builtins for unit-testing the vpython .bzl files with starlark-pyo3.

Every .bzl under test is evaluated with `load("fakes.bzl", <these names>)` prepended, so
`rule`, `attr`, `provider`, `Label`, `depset`, ... are these recorders instead of Bazel's.
`fake_file`, `fake_label`, `fake_target` and `fake_ctx` build the inputs of a rule
implementation; `fake_ctx(...).actions.log` records what it declared and ran.
"""

def _attr(kind):
    def make(**kwargs):
        return struct(attr_kind = kind, default = kwargs.get("default"), values = kwargs.get("values"), kwargs = kwargs)

    return make

attr = struct(
    bool = _attr("bool"),
    int = _attr("int"),
    label = _attr("label"),
    label_list = _attr("label_list"),
    string = _attr("string"),
    string_dict = _attr("string_dict"),
    string_list = _attr("string_list"),
)

def rule(implementation, attrs = None, doc = "", executable = False, test = False, toolchains = None, provides = None):
    return struct(
        implementation = implementation,
        attrs = attrs or {},
        doc = doc,
        executable = executable,
        test = test,
        toolchains = toolchains or [],
        provides = provides or [],
    )

def repository_rule(implementation, attrs = None, doc = "", environ = None, local = False):
    return struct(implementation = implementation, attrs = attrs or {}, doc = doc, environ = environ or [], local = local)

def tag_class(attrs = None, doc = ""):
    return struct(attrs = attrs or {}, doc = doc)

def module_extension(implementation, tag_classes = None, doc = ""):
    return struct(implementation = implementation, tag_classes = tag_classes or {}, doc = doc)

def provider(doc = "", fields = None):  # buildifier: disable=unused-variable
    def construct(**kwargs):
        for key in kwargs:
            if fields != None and key not in fields:
                fail("provider has no field %r (fields: %s)" % (key, ", ".join(sorted(fields))))
        return struct(**kwargs)

    return construct

DefaultInfo = provider(doc = "Bazel's DefaultInfo.", fields = ["executable", "files", "runfiles", "default_runfiles", "files_to_run"])
OutputGroupInfo = struct  # called with keyword arguments only

platform_common = struct(ToolchainInfo = provider(doc = "Bazel's ToolchainInfo.", fields = None))

# Bazel 4.2.3's config_common: no toolchain_type (so no `toolchain =` on ctx.actions.run).
config_common = struct(FeatureFlagInfo = provider(doc = "Bazel's FeatureFlagInfo.", fields = None))

def Label(value):
    return value if value.startswith("@") else "@vpython" + value

def depset(direct = None, transitive = None, order = "default"):
    """A depset: direct items first, then the transitive ones, without duplicates.

    Args:
      direct: items.
      transitive: other depsets.
      order: recorded only.

    Returns:
      A struct with to_list() and order.
    """
    items = list(direct or [])
    for t in transitive or []:
        for item in t.to_list():
            if item not in items:
                items.append(item)
    return struct(to_list = lambda: list(items), order = order)

native = struct()

def fake_native(package = "pkg", repo = "@", relative_label = None):
    """`native` of a BUILD file being loaded.

    Args:
      package: what native.package_name() returns.
      repo: what native.repository_name() returns (Bazel 4.2.3's API).
      relative_label: None for Bazel 4.2.3; else Bazel 7.1's: package_relative_label
        returns `relative_label % name` and repository_name() is disabled.

    Returns:
      A struct standing in for `native`.
    """
    if relative_label == None:
        return struct(package_name = lambda: package, repository_name = lambda: repo)

    def fail_deprecated():
        fail("native.repository_name() is not available (--noincompatible_enable_deprecated_label_apis)")

    return struct(
        package_name = lambda: package,
        package_relative_label = lambda name: relative_label % name,
        repository_name = fail_deprecated,
    )

# --------------------------------------------------------------------------- test inputs

def fake_file(short_path, root = "", is_directory = False):
    """A File.

    Args:
      short_path: as Bazel shows it (`pkg/x.py`, `../repo/x.whl`).
      root: the output root (e.g. bazel-out/k8-fastbuild/bin) of a generated file, "" for a source.
      is_directory: whether it is a tree artifact.

    Returns:
      A struct with File's fields (path, short_path, dirname, basename, owner, ...).
    """
    path = short_path
    if short_path.startswith("../"):
        path = "external/" + short_path[len("../"):]
    if root:
        path = root + "/" + path
    parts = path.split("/")
    return struct(
        path = path,
        short_path = short_path,
        dirname = "/".join(parts[:-1]),
        basename = parts[-1],
        is_directory = is_directory,
        is_source = root == "",
        owner = ("@" + short_path[3:].split("/")[0] + "//:" + "/".join(short_path[3:].split("/")[1:])) if short_path.startswith("../") else "//:" + short_path,
    )

def fake_label(package, name, repo = ""):
    return struct(name = name, package = package, workspace_name = repo, label = "%s//%s:%s" % (repo, package, name))

def fake_runfiles(files = None):
    collected = list(files or [])

    def merge(other):
        return fake_runfiles(collected + other.files)

    return struct(files = collected, merge = merge)

def fake_target(providers = None, default_runfiles = None):
    """A dependency.

    Args:
      providers: a dict from provider constructor to provider value.
      default_runfiles: its DefaultInfo runfiles, when `providers` has no DefaultInfo.

    Returns:
      The dict (Target[Provider] is a dict lookup here).
    """
    out = dict(providers or {})
    if DefaultInfo not in out:
        out[DefaultInfo] = DefaultInfo(default_runfiles = default_runfiles or fake_runfiles())
    return out

def _args():
    argv = []

    def _value(v):
        return v.path if hasattr(v, "path") else v

    def add(name_or_value, value = None):
        if value == None:
            argv.append(_value(name_or_value))
        else:
            argv.append(name_or_value)
            argv.append(_value(value))

    def add_all(values, map_each = None, uniquify = False, before_each = None):
        seen = {}
        items = values.to_list() if hasattr(values, "to_list") else values
        for item in items:
            v = map_each(item) if map_each else _value(item)
            if uniquify and v in seen:
                continue
            seen[v] = True
            if before_each:
                argv.append(before_each)
            argv.append(v)

    return struct(add = add, add_all = add_all, argv = argv)

BIN = "bazel-out/k8-fastbuild/bin"

def fake_ctx(label, attrs, files = None, toolchains = None, workspace_name = "my_ws", data_locations = None):
    """A rule context; `ctx.actions.log` records what the implementation declared and ran.

    Args:
      label: fake_label() of the target.
      attrs: attribute values (targets or strings).
      files: {attr: [File]} for ctx.file / ctx.files.
      toolchains: {toolchain type: ToolchainInfo}.
      workspace_name: ctx.workspace_name.
      data_locations: {name: path} that expand_location substitutes for `$(location name)`.

    Returns:
      A struct standing in for ctx.
    """
    log = []
    files = files or {}
    package = label.package

    def declare(name, is_directory):
        f = fake_file((package + "/" if package else "") + name, root = BIN, is_directory = is_directory)
        log.append(("declare_directory" if is_directory else "declare_file", f.short_path))
        return f

    def run(**kwargs):
        log.append(("run", kwargs))

    def expand_template(template, output, substitutions, is_executable = False):
        log.append(("expand_template", struct(template = template, output = output, substitutions = substitutions, is_executable = is_executable)))

    def expand_location(value, targets = None):  # buildifier: disable=unused-variable
        for k, v in (data_locations or {}).items():
            value = value.replace("$(location %s)" % k, v)
        return value

    single = {}
    for k, v in files.items():
        single[k] = v[0] if v else None
    return struct(
        actions = struct(
            args = _args,
            declare_directory = lambda name: declare(name, True),
            declare_file = lambda name: declare(name, False),
            expand_template = expand_template,
            run = run,
            log = log,
        ),
        attr = struct(**attrs),
        expand_location = expand_location,
        file = struct(**single),
        files = struct(**files),
        label = label,
        runfiles = lambda files = None, transitive_files = None: fake_runfiles((files or []) + (transitive_files.to_list() if transitive_files else [])),
        toolchains = toolchains or {},
        workspace_name = workspace_name,
    )

# --------------------------------------------------------------------------- repository rules

def _path_object(path, parent, existing):
    def get_child(name):
        return fake_path(path.rstrip("/") + "/" + name, existing)

    return struct(
        basename = path.rstrip("/").split("/")[-1],
        dirname = parent,
        exists = path in existing,
        get_child = get_child,
        path = path,
    )

def fake_path(path, existing = None):
    """A repository_ctx path object.

    Args:
      path: an absolute path string.
      existing: the set (dict) of paths that exist.

    Returns:
      A struct with basename, dirname, exists, get_child and path.
    """
    existing = existing or {}
    parts = [p for p in path.split("/") if p]
    node = _path_object("/", None, existing)
    for i in range(len(parts)):
        node = _path_object("/" + "/".join(parts[:i + 1]), node, existing)
    return node

def fake_rctx(attrs, paths = None, existing = None, which = None, execute = None, environ = None, os_name = "linux", files = None):
    """A repository_ctx; `log` records what the rule did.

    Args:
      attrs: the rule's attribute values.
      paths: {label or string: path string} for rctx.path.
      existing: paths that exist.
      which: {name: path string} for rctx.which.
      execute: execute(argv) returns (return_code, stdout, stderr).
      environ: rctx.os.environ.
      os_name: rctx.os.name.
      files: {path string: content} for rctx.read.

    Returns:
      A struct standing in for repository_ctx.
    """
    log = []
    existing = existing or {}

    def path(value):
        key = str(value)
        return fake_path((paths or {}).get(key, key), existing)

    def which_fn(name):
        found = (which or {}).get(name)
        if not found:
            return None
        known = dict(existing)
        known[found] = True
        return fake_path(found, known)

    def execute_fn(argv, quiet = False, **kwargs):  # buildifier: disable=unused-variable
        argv = [a.path if hasattr(a, "path") else a for a in argv]
        log.append(("execute", argv))
        code, out, err = execute(argv) if execute else (0, "", "")
        return struct(return_code = code, stdout = out, stderr = err)

    def record(kind):
        def fn(*args, **kwargs):
            log.append((kind, args, kwargs))

        return fn

    def read(value):
        key = value.path if hasattr(value, "path") else str(value)
        if key not in (files or {}):
            fail("fake rctx.read: no file %r" % key)
        return files[key]

    return struct(
        attr = struct(**attrs),
        download = record("download"),
        download_and_extract = record("download_and_extract"),
        execute = execute_fn,
        file = record("file"),
        log = log,
        os = struct(environ = environ or {}, name = os_name),
        path = path,
        read = read,
        report_progress = record("report_progress"),
        symlink = record("symlink"),
        which = which_fn,
    )
