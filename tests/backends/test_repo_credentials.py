"""A chart repository's credentials Secret, read the same way by both backends."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pyvela._backends.helmvalues import repo_credentials
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _getter(data: dict[str, str] | None) -> Any:
    def get(ref: ObjectRef) -> Any:
        assert (ref.kind, ref.namespace, ref.name) == ("Secret", "ns", "repo")
        return None if data is None else {"data": data}

    return get


def test_the_username_and_password_are_decoded() -> None:
    get = _getter({"username": _b64("ci"), "password": _b64("s3cr3t")})
    assert repo_credentials(get, "ns", "repo", "HelmRelease ns/r") == ("ci", "s3cr3t")


def test_a_missing_secret_says_how_to_create_it() -> None:
    with pytest.raises(ClusterError) as err:
        repo_credentials(_getter(None), "ns", "repo", "HelmRelease ns/r")
    assert "does not exist" in str(err.value) and "kubectl create secret generic repo" in str(err.value)


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        ({"username": _b64("user-7f3a")}, "password"),
        ({"username": _b64("user-7f3a"), "password": ""}, "password"),
        ({"username": _b64("user-7f3a"), "password": _b64("")}, "password"),  # decodes to nothing
        ({}, "username and no password"),
    ],
)
def test_a_missing_or_empty_key_is_named_never_a_value(data: dict[str, str], missing: str) -> None:
    with pytest.raises(ClusterError) as err:
        repo_credentials(_getter(data), "ns", "repo", "HelmRelease ns/r")
    assert f"has no {missing}" in str(err.value)
    assert "user-7f3a" not in str(err.value)
