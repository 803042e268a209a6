"""Offline stand-in for @rules_java//java:defs.bzl (forwards to the native rules)."""

def java_binary(**kwargs):
    """Forwards to native.java_binary."""
    native.java_binary(**kwargs)  # buildifier: disable=native-java-binary

def java_import(**kwargs):
    """Forwards to native.java_import."""
    native.java_import(**kwargs)  # buildifier: disable=native-java-import

def java_library(**kwargs):
    """Forwards to native.java_library."""
    native.java_library(**kwargs)  # buildifier: disable=native-java-library

def java_lite_proto_library(**kwargs):
    """Forwards to native.java_lite_proto_library."""
    native.java_lite_proto_library(**kwargs)  # buildifier: disable=native-java-lite-proto

def java_package_configuration(**kwargs):
    """Forwards to native.java_package_configuration."""
    native.java_package_configuration(**kwargs)  # buildifier: disable=native-java-package-config

def java_plugin(**kwargs):
    """Forwards to native.java_plugin."""
    native.java_plugin(**kwargs)  # buildifier: disable=native-java-plugin

def java_proto_library(**kwargs):
    """Forwards to native.java_proto_library."""
    native.java_proto_library(**kwargs)  # buildifier: disable=native-java-proto

def java_runtime(**kwargs):
    """Forwards to native.java_runtime."""
    native.java_runtime(**kwargs)  # buildifier: disable=native-java-runtime

def java_test(**kwargs):
    """Forwards to native.java_test."""
    native.java_test(**kwargs)  # buildifier: disable=native-java-test

def java_toolchain(**kwargs):
    """Forwards to native.java_toolchain."""
    native.java_toolchain(**kwargs)  # buildifier: disable=native-java-toolchain
