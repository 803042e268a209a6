"""From a decoded PEP 751 lockfile to the wheel repository that `vpython_locked_wheels` writes.

Pure functions (no `repository_ctx`), so the Starlark unit tests can run them directly.
Only the lockfile keys an installer needs are read: `lock-version`, `packages[].name`,
`packages[].version`, `packages[].wheels[]` (`name`, `url` or `path`, `hashes.sha256`) and,
when builds are allowed (`allow_sdist_builds = True`), `packages[].sdist` (same keys): an
sdist is kept beside the wheels (`wheels/<file>.tar.gz`, in every platform's set) and
`vpython build` builds it for the host; by default a package with only an sdist is an error.
Which wheel a target installs (markers, Python and ABI tags) is decided later by
`vpython build --platform ...`; here every wheel is only sorted into the target platforms whose
OS and CPU its platform tag can serve, so an action sees the wheels of its own platform only.
"""

load("//toolchains:platforms.bzl", "PLATFORMS", "PLATFORM_KEYS")
load(":utils.bzl", "starlark_list")

_SEPARATORS = {"-": True, ".": True, "_": True}
_HEX = "0123456789abcdef"

# Architectures in `macosx_<major>_<minor>_<arch>` tags -> cpu values of PLATFORMS.
_MACOS_ARCHES = {
    "arm64": ["aarch64"],
    "fat3": ["x86_64"],
    "fat64": ["x86_64"],
    "intel": ["x86_64"],
    "universal": ["x86_64"],
    "universal2": ["aarch64", "x86_64"],
    "x86_64": ["x86_64"],
}
_LINUX_ARCHES = ["aarch64", "x86_64"]
_WINDOWS_TAGS = {"win_amd64": "x86_64", "win_arm64": "aarch64"}

def normalize_name(name):
    """PEP 503 normalized project name: lower case, runs of `-_.` become one `-`.

    Args:
      name: a project name as written in a lockfile.

    Returns:
      The normalized name, e.g. "markupsafe" for "MarkupSafe", "zope-interface" for "zope.interface".
    """
    out = []
    in_separator = False
    for c in name.lower().elems():
        if c in _SEPARATORS:
            if not in_separator:
                out.append("-")
            in_separator = True
        else:
            out.append(c)
            in_separator = False
    return "".join(out)

def package_dir(name):
    """The Bazel package of a project in the wheel repository (`@pypi//zope_interface`)."""
    return normalize_name(name).replace("-", "_")

def parse_wheel_filename(filename):
    """Splits a PEP 427 wheel filename.

    Args:
      filename: e.g. "MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl".

    Returns:
      A dict with `distribution`, `version`, `build`, `python_tags`, `abi_tags` and
      `platform_tags` (lists, compressed tag sets expanded), or None if it is not a wheel name.
    """
    if not filename.endswith(".whl") or "/" in filename or "\\" in filename:
        return None
    parts = filename[:-len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return None
    for part in parts:
        if not part:
            return None
    return {
        "abi_tags": parts[-2].split("."),
        "build": parts[2] if len(parts) == 6 else "",
        "distribution": parts[0],
        "platform_tags": parts[-1].split("."),
        "python_tags": parts[-3].split("."),
        "version": parts[1],
    }

def platform_tag_targets(tag):
    """The (os, cpus) a single PEP 425 platform tag can run on.

    Args:
      tag: one platform tag, e.g. "manylinux_2_17_x86_64", "macosx_11_0_universal2", "win_amd64", "any".

    Returns:
      ("*", ["*"]) for "any"; ("linux" | "macos" | "windows", [cpu, ...]) for tags of those
      systems (cpus limited to the ones vpython registers, possibly empty); ("", []) otherwise.
    """
    if tag == "any":
        return ("*", ["*"])
    if tag.startswith("manylinux") or tag.startswith("musllinux") or tag.startswith("linux_"):
        for arch in _LINUX_ARCHES:
            if tag.endswith("_" + arch):
                return ("linux", [arch])
        return ("linux", [])
    if tag.startswith("macosx_"):
        parts = tag.split("_", 3)
        if len(parts) == 4:
            return ("macos", _MACOS_ARCHES.get(parts[3], []))
        return ("macos", [])
    if tag in _WINDOWS_TAGS:
        return ("windows", [_WINDOWS_TAGS[tag]])
    if tag.startswith("win"):
        return ("windows", [])
    return ("", [])

def wheel_platform_keys(filename):
    """The PLATFORMS keys a wheel may be installed on (by OS and CPU only).

    Args:
      filename: a wheel filename.

    Returns:
      A sorted list of PLATFORMS keys; every key for pure (`any`) wheels; [] if not a wheel name.
    """
    info = parse_wheel_filename(filename)
    if info == None:
        return []
    found = {}
    for tag in info["platform_tags"]:
        os, cpus = platform_tag_targets(tag)
        if os == "*":
            return list(PLATFORM_KEYS)
        for key in PLATFORM_KEYS:
            if PLATFORMS[key]["os"] == os and PLATFORMS[key]["cpu"] in cpus:
                found[key] = True
    return sorted(found.keys())

def _is_sha256(value):
    if type(value) != "string" or len(value) != 64:
        return False
    for c in value.lower().elems():
        if c not in _HEX:
            return False
    return True

def _basename(path):
    return path.replace("\\", "/").rstrip("/").split("/")[-1].split("?")[0].split("#")[0]

def _is_sdist_filename(filename):
    return (filename.endswith(".tar.gz") or filename.endswith(".zip")) and "/" not in filename and "\\" not in filename

def lock_model(lock, source, allow_sdists = False):
    """Validates a decoded pylock.toml and returns what the wheel repository is made of.

    Args:
      lock: the lockfile as a dict (TOML decoded; dates may be strings).
      source: how to name the lockfile in messages, e.g. "//:pylock.toml".
      allow_sdists: keep `packages[].sdist` entries (see the module docstring); False: a
        package without wheels is an error.

    Returns:
      (model, errors). `errors` is a list of one-line messages (empty when the lock is usable).
      `model` is a dict: `packages` maps a package dir (see package_dir) to
      {"name", "versions", "wheels": [filename, ...]}; `wheels` maps a wheel (or kept
      sdist) filename to {"filename", "sha256", "url", "path", "platforms", "package"}.
    """
    errors = []
    packages = {}
    wheels = {}
    if type(lock) != "dict":
        return ({"packages": packages, "wheels": wheels}, ["%s: not a TOML table" % source])
    version = lock.get("lock-version")
    if type(version) != "string" or version.split(".")[0] != "1":
        errors.append("%s: lock-version %r is not supported (this vpython reads PEP 751 lock-version 1.x)" % (source, version))
    entries = lock.get("packages")
    if type(entries) != "list":
        errors.append("%s: no [[packages]] array (is this a PEP 751 pylock.toml?)" % source)
        entries = []
    for index, entry in enumerate(entries):
        if type(entry) != "dict" or type(entry.get("name")) != "string" or not entry.get("name"):
            errors.append("%s: packages[%d] has no name" % (source, index))
            continue
        name = normalize_name(entry["name"])
        where = "%s: package %s" % (source, name)
        unsupported = [k for k in ("archive", "directory", "vcs") if k in entry]
        if unsupported:
            errors.append("%s is a %s source; vpython installs wheels only" % (where, unsupported[0]))
            continue
        entry_wheels = entry.get("wheels", [])
        if type(entry_wheels) != "list":
            entry_wheels = []
        sdist = entry.get("sdist") if allow_sdists and type(entry.get("sdist")) == "dict" else None
        if not entry_wheels and sdist == None:
            errors.append("%s has no wheels%s; vpython installs wheels only%s" % (
                where,
                " (only an sdist)" if "sdist" in entry else "",
                ", unless builds from sdists are allowed (allow_sdist_builds = True)" if "sdist" in entry else "",
            ))
            continue
        if sdist != None:
            entry_wheels = entry_wheels + [sdist]
        pkg = packages.setdefault(package_dir(name), {"name": name, "versions": [], "wheels": []})
        if type(entry.get("version")) == "string" and entry["version"] not in pkg["versions"]:
            pkg["versions"].append(entry["version"])
        for windex, wheel in enumerate(entry_wheels):
            wwhere = "%s: wheels[%d]" % (where, windex)
            if type(wheel) != "dict":
                errors.append("%s is not a table" % wwhere)
                continue
            url = wheel.get("url") if type(wheel.get("url")) == "string" else ""
            path = wheel.get("path") if type(wheel.get("path")) == "string" else ""
            filename = wheel.get("name") if type(wheel.get("name")) == "string" else _basename(url or path)
            is_sdist = wheel == sdist
            if is_sdist:
                wwhere = "%s: sdist" % where
                if not _is_sdist_filename(filename):
                    errors.append("%s: %r is not an sdist filename" % (wwhere, filename))
                    continue
            elif parse_wheel_filename(filename) == None:
                errors.append("%s: %r is not a wheel filename" % (wwhere, filename))
                continue
            wwhere = "%s: wheel %s" % (where, filename)
            if not url and not path:
                errors.append("%s has neither url nor path" % wwhere)
                continue
            hashes = wheel.get("hashes")
            sha256 = hashes.get("sha256") if type(hashes) == "dict" else None
            if not _is_sha256(sha256):
                errors.append("%s has no valid sha256 in hashes (Bazel downloads only what it can verify)" % wwhere)
                continue
            sha256 = sha256.lower()
            if filename in wheels:
                if wheels[filename]["sha256"] != sha256:
                    errors.append("%s is locked twice with different sha256" % wwhere)
                continue
            wheels[filename] = {
                "filename": filename,
                "package": package_dir(name),
                "path": path,
                # An sdist serves any platform that lacks a wheel; vpython build refuses to
                # build it for another platform than the host's, naming the package.
                "platforms": list(PLATFORM_KEYS) if is_sdist else wheel_platform_keys(filename),
                "sha256": sha256,
                "url": url,
            }
            pkg["wheels"].append(filename)
    for pkg in packages.values():
        pkg["wheels"] = sorted(pkg["wheels"])
    return ({"packages": packages, "wheels": wheels}, errors)

def _string_list(values, indent):
    return starlark_list(values, indent)

def _platform_select(labels_by_platform, config_settings, no_match_error, indent):
    pad = " " * indent
    lines = ["select(\n", pad + "    {\n"]
    for key in PLATFORM_KEYS:
        lines.append("%s        %s: %s,\n" % (pad, repr(config_settings[key]), _string_list(labels_by_platform.get(key, []), indent + 8)))
    lines.append(pad + "    },\n")
    lines.append("%s    no_match_error = %s,\n" % (pad, repr(no_match_error)))
    lines.append(pad + ")")
    return "".join(lines)

def render_build_files(model, repo_name, lock_name, source, labels):
    """The BUILD files of a wheel repository.

    Args:
      model: the first result of lock_model().
      repo_name: the repository's name (for messages).
      lock_name: the basename the lockfile is linked under at the repository root.
      source: the lockfile's label, for the header comment.
      labels: {"wheel_set_bzl": label string of rules/private:wheels.bzl,
               "config_settings": {PLATFORMS key: label string of its config_setting}}.

    Returns:
      A dict {path in the repository: file content}.
    """
    header = "# Generated by vpython_locked_wheels from %s. Do not edit; re-lock instead.\n\n" % source
    load_line = "load(%s, \"vpython_wheel_set\")\n\n" % repr(labels["wheel_set_bzl"])
    no_match = ("@%s has wheels for %s only; build with --platforms set to one of the " +
                "platforms in @vpython//toolchains (e.g. @vpython//toolchains:linux_x86_64)") % (
        repo_name,
        ", ".join(PLATFORM_KEYS),
    )
    dirs = sorted(model["packages"].keys())
    files = {}

    root = [header, load_line, "package(default_visibility = [\"//visibility:public\"])\n\n"]
    exported = [lock_name] + ["wheels/" + f for f in sorted(model["wheels"].keys())]
    root.append("exports_files(%s)\n\n" % _string_list(exported, 0))
    for key in PLATFORM_KEYS:
        srcs = [":wheels/" + f for f in sorted(model["wheels"].keys()) if key in model["wheels"][f]["platforms"]]
        root.append("filegroup(\n    name = %s,\n    srcs = %s,\n)\n\n" % (repr("wheels_" + key), _string_list(srcs, 4)))
    root.append("# Every locked package, with the wheels of the target platform.\n")
    root.append("vpython_wheel_set(\n    name = \"wheels\",\n    lock = %s,\n    lock_packages = %s,\n    packages = %s,\n    wheels = %s,\n)\n" % (
        repr(":" + lock_name),
        _string_list([model["packages"][d]["name"] for d in dirs], 4),
        _string_list([model["packages"][d]["name"] for d in dirs], 4),
        _platform_select(
            dict([(k, [":wheels_" + k]) for k in PLATFORM_KEYS]),
            labels["config_settings"],
            no_match,
            4,
        ),
    ))
    files["BUILD.bazel"] = "".join(root)

    for d in dirs:
        pkg = model["packages"][d]
        by_platform = {}
        for f in pkg["wheels"]:
            for key in model["wheels"][f]["platforms"]:
                by_platform.setdefault(key, []).append("//:wheels/" + f)
        files[d + "/BUILD.bazel"] = "".join([
            header,
            load_line,
            "package(default_visibility = [\"//visibility:public\"])\n\n",
            "# %s %s\n" % (pkg["name"], ", ".join(pkg["versions"])),
            "vpython_wheel_set(\n    name = %s,\n    lock = %s,\n    lock_packages = %s,\n    packages = [%s],\n    wheels = %s,\n)\n" % (
                repr(d),
                repr("//:" + lock_name),
                _string_list([model["packages"][x]["name"] for x in dirs], 4),
                repr(pkg["name"]),
                _platform_select(by_platform, labels["config_settings"], no_match, 4),
            ),
        ])
    return files
