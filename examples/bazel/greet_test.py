"""`bazel test //:greet_test`: the locked packages import and behave."""

import os
import sys
import unittest

import markupsafe
import six

from greeting import make_greeting


class GreetTest(unittest.TestCase):
    def test_escapes(self):
        self.assertEqual(make_greeting(markupsafe.escape, "<a & b>"), "Hello, &lt;a &amp; b&gt;!")

    def test_pinned_versions(self):
        self.assertEqual(six.__version__, "1.17.0")

    def test_env_from_the_rule(self):
        self.assertEqual(os.environ.get("GREETING_MODE"), "test")

    def test_runs_in_a_venv(self):
        self.assertNotEqual(sys.prefix, sys.base_prefix)


if __name__ == "__main__":
    unittest.main()
