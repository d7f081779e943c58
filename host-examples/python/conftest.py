"""pytest fixtures: one component instance per test module."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cloudauth  # noqa: E402


@pytest.fixture(scope="module")
def ca() -> cloudauth.Cloudauth:
    path = cloudauth.default_wasm_path()
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with `cargo xtask build`")
    return cloudauth.Cloudauth(path)
