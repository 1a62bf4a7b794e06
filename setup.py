"""Only for the native helper (sentry/native_build.py): the rest is in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["sentry/native_build.py:ffibuilder"])
