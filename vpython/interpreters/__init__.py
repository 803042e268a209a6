"""Find, probe and choose the CPython interpreter an env is built on.

One module per job; import the one you need (this file imports nothing, so the warm path,
which reaches ``identity`` through it, pays for no more than it uses):

* ``identity`` — who a binary is, for cache keys (stdlib only: ``env/fastpath`` uses it).
* ``model`` — ``Interpreter``, the probed record other layers receive.
* ``probe`` — runs an interpreter once and caches what it says, keyed by identity.
* ``discover`` — where interpreters are looked for (PATH, pyenv, ``py -0p``) and which
  one is the default.
* ``select`` — ``python_version`` / ``requires-python`` / an explicit path → one
  ``Interpreter``.
* ``tags`` — the chosen interpreter's PEP 425 tags and PEP 508 marker values.

``packaging`` is imported only inside the functions that need it.
"""
