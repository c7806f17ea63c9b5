"""Golden files: the editions of the small fixture and of the reference issue, byte for byte."""

from __future__ import annotations

import pytest
from tests.render.conftest import EDITIONS, Rendered, assert_golden


@pytest.mark.parametrize("file", EDITIONS)
def test_small_issue_matches_golden(small: Rendered, file: str, update_golden: bool) -> None:
    assert_golden("small", file, small.files[file], update_golden)


@pytest.mark.parametrize("file", EDITIONS)
def test_reference_issue_matches_golden(
    reference: Rendered, file: str, update_golden: bool
) -> None:
    assert_golden("2024-q4", file, reference.files[file], update_golden)


def test_a_difference_is_shown_as_a_readable_diff(small: Rendered) -> None:
    changed = small.files["email.txt"].replace(b"Ny veileder", b"Gammel veileder", 1)
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_golden("small", "email.txt", changed, update=False)
    message = str(failure.value)
    assert "-Ny veileder om identifisering" in message
    assert "+Gammel veileder om identifisering" in message
    assert "--update-golden" in message
