"""CIPD-style ``${var}`` templates in text-proto wheel names (luci-go
``cipd/client/cipd/template/template.go``, ``vpython/wheels/pep425.go``).

``template_vars`` gives the variables for the one tag ``spec.match.select_tag`` picks
(``${vpython_platform}`` = ``linux-amd64_cp311_cp311``); ``expand_template`` substitutes
them, and ``${var=a,b}`` skips a wheel whose value is not listed. Stdlib only.
"""

from __future__ import annotations

import re
from typing import Any

from vpython.errors import SpecError
from vpython.spec.match import cipd_platform_for_tag, tag_fields

# The variables a text-proto wheel name may use (luci-go wheels/pep425.go plus the
# ${os}/${arch}/${platform} of template.Platform.Expander()).
TEMPLATE_VARS = ("os", "arch", "platform", "py_python", "py_abi", "py_platform", "py_tag", "vpython_platform")


def template_vars(tag: Any) -> dict[str, str]:
    """CIPD template variables for the selected tag (luci-go
    ``addPEP425CIPDTemplateForTag`` on ``Platform.Expander()``).

    ``os``/``arch``/``platform`` come from the *tag* (so 32-bit Python on 64-bit Windows
    gives ``windows-386``), ``py_python``/``py_abi``/``py_platform`` only when that field
    is set, ``py_tag`` only when all three are, ``vpython_platform``
    (``<os>-<arch>_<python>_<abi>``) when python and abi are. Raises ``UserError`` when
    the CIPD platform cannot be inferred from the tag.
    """
    python, abi, platform = tag_fields(tag)
    os_name, arch = cipd_platform_for_tag(tag)
    cipd_platform = f"{os_name}-{arch}"
    out = {"os": os_name, "arch": arch, "platform": cipd_platform}
    if python:
        out["py_python"] = python
    if abi:
        out["py_abi"] = abi
    if platform:
        out["py_platform"] = platform
    if python and abi and platform:
        out["py_tag"] = f"{python}-{abi}-{platform}"
    if python and abi:
        out["vpython_platform"] = f"{cipd_platform}_{python}_{abi}"
    return out


_TEMPLATE_PARAM = re.compile(r"\$\{[^}]*\}")


def expand_template(template: str, variables: dict[str, str]) -> str | None:
    """Expand CIPD ``${var}`` templates (luci-go ``template.Expander.Expand``).

    ``${var}`` substitutes; ``${var=a,b}`` substitutes when the value is listed and
    otherwise returns ``None``: the wheel does not apply here and is skipped silently.
    An unknown variable, or any ``$`` left after expansion, raises ``SpecError``. As in
    the original, a skip wins over an unknown variable elsewhere in the same name.
    """
    skip = False
    error: str | None = None

    def repl(m: re.Match[str]) -> str:
        nonlocal skip, error
        param = m.group(0)
        contents = param[2:-1]
        name, eq, values = contents.partition("=")
        if name not in variables:
            known = ", ".join(sorted(variables))
            error = f"unknown variable in {param} (known: {known})"
            return param
        if not eq:
            return variables[name]
        if variables[name] in values.split(","):
            return variables[name]
        skip = True
        return param

    expanded = _TEMPLATE_PARAM.sub(repl, template)
    if skip:
        return None
    if error is not None:
        raise SpecError(
            f"expanding {template!r}: {error}",
            hint="use one of the known variables, e.g. ${vpython_platform}",
        )
    if "$" in expanded:
        raise SpecError(
            f"expanding {template!r}: unable to process some variables (a '$' is left over)",
            hint="write a template as ${name} (or ${name=a,b})",
        )
    return expanded
