"""Offline stand-in for @rules_cc//cc:defs.bzl (forwards to the native rules)."""

def cc_binary(**kwargs):
    """Forwards to native.cc_binary."""
    native.cc_binary(**kwargs)  # buildifier: disable=native-cc-binary

def cc_import(**kwargs):
    """Forwards to native.cc_import."""
    native.cc_import(**kwargs)  # buildifier: disable=native-cc-import

def cc_library(**kwargs):
    """Forwards to native.cc_library."""
    native.cc_library(**kwargs)  # buildifier: disable=native-cc-library

def cc_proto_library(**kwargs):
    """Forwards to native.cc_proto_library."""
    native.cc_proto_library(**kwargs)  # buildifier: disable=native-cc-proto

def cc_shared_library(**kwargs):
    """Forwards to native.cc_shared_library."""
    native.cc_shared_library(**kwargs)  # buildifier: disable=native-cc-shared-library

def cc_test(**kwargs):
    """Forwards to native.cc_test."""
    native.cc_test(**kwargs)  # buildifier: disable=native-cc-test

def cc_toolchain(**kwargs):
    """Forwards to native.cc_toolchain."""
    native.cc_toolchain(**kwargs)  # buildifier: disable=native-cc-toolchain

def cc_toolchain_suite(**kwargs):
    """Forwards to native.cc_toolchain_suite."""
    native.cc_toolchain_suite(**kwargs)  # buildifier: disable=native-cc-toolchain-suite

def fdo_prefetch_hints(**kwargs):
    """Forwards to native.fdo_prefetch_hints."""
    native.fdo_prefetch_hints(**kwargs)  # buildifier: disable=native-cc-fdo-prefetch-hints

def fdo_profile(**kwargs):
    """Forwards to native.fdo_profile."""
    native.fdo_profile(**kwargs)  # buildifier: disable=native-cc-fdo-profile

def objc_import(**kwargs):
    """Forwards to native.objc_import."""
    native.objc_import(**kwargs)  # buildifier: disable=native-cc-objc-import

def objc_library(**kwargs):
    """Forwards to native.objc_library."""
    native.objc_library(**kwargs)  # buildifier: disable=native-cc-objc-library
