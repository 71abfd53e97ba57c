"""Path normalisation before the gate's lookup (api.access.paths)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.access.paths import MAX_PATH_BYTES, PathError, fold, is_safe_next, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "/"),
        ("//", "/"),
        ("/about", "/about"),
        ("/about/", "/about/"),
        ("//about//", "/about/"),
        ("/./about/./", "/about/"),
        ("/news/../about/", "/about/"),
        ("/news/..", "/"),
        ("/members/x/..", "/members/"),
        ("/members/x/.", "/members/x/"),
        ("/%61bout/", "/about/"),
        ("/members%2Fseminar/", "/members/seminar/"),
        ("/members/%2e%2e/about/", "/about/"),
        ("/members/%2E%2E/%2e/about", "/about"),
        ("/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/", "/ニュース/"),
        ("/members/%252e%252e/", "/members/%2e%2e/"),  # decoded once, never twice
        ("/a+b/", "/a+b/"),
    ],
)
def test_spellings_normalise_to_one_path(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("/%00", 400),
        ("/a%00b.html", 400),
        ("/a%0ab", 400),
        ("/a%7fb", 400),
        ("/a%C2%85b", 400),  # NEL, a C1 control
        ("/a%5cb", 400),  # backslash
        ("/members\\guide.pdf", 400),
        ("/..", 400),
        ("/../etc/passwd", 400),
        ("/%2e%2e/etc/passwd", 400),
        ("/a/../../etc", 400),
        ("/%zz", 400),
        ("/%4", 400),
        ("/%", 400),
        ("/%ff", 400),  # not UTF-8
        ("/%C0%AE%C0%AE/", 400),  # overlong UTF-8 for "."
        ("about", 400),
        ("/" + "a" * MAX_PATH_BYTES, 404),
        ("/" + "a" * 300 + "/", 404),
    ],
)
def test_odd_paths_are_refused(raw: str, status: int) -> None:
    with pytest.raises(PathError) as caught:
        normalise(raw)
    assert caught.value.status == status


def test_decoded_paths_from_nginx_are_not_decoded_again() -> None:
    assert normalise("/members/%2e%2e/", decoded=True) == "/members/%2e%2e/"
    assert normalise("/ニュース/", decoded=True) == "/ニュース/"
    assert normalise("//members/./x/../seminar/", decoded=True) == "/members/seminar/"
    with pytest.raises(PathError):
        normalise("/a\nb", decoded=True)
    with pytest.raises(PathError):
        normalise("/ニュース/")  # raw paths are ASCII (escaped)


def test_fold_joins_spellings_a_lenient_file_system_would_join() -> None:
    assert fold("/Members/Guide.PDF") == fold("/members/guide.pdf")
    assert fold("/members/guide.pdf.") == fold("/members/guide.pdf")
    assert fold("/members/guide.pdf ") == fold("/members/guide.pdf")
    assert fold("/ＭＥＭＢＥＲＳ/") != fold("/members/")  # NFC keeps full-width apart (not NFKC)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("/members/seminar/", True),
        ("/a/?x=1&y=2", True),
        ("", False),
        (None, False),
        ("//evil.example/", False),
        ("/\\evil.example/", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("/a\nb", False),
        ("members/", False),
    ],
)
def test_safe_next(value: str | None, safe: bool) -> None:
    assert is_safe_next(value) is safe


@given(st.text(alphabet="/.%2eE5cC0a\\bx", max_size=40))
def test_normalised_paths_are_canonical_and_never_climb(raw: str) -> None:
    try:
        path = normalise("/" + raw)
    except PathError as exc:
        status = exc.status
        assert status in (400, 404)
        return
    assert path.startswith("/") and "//" not in path
    segments = path.split("/")
    assert ".." not in segments and "." not in segments
    assert "\\" not in path and "\x00" not in path
    assert normalise(path.replace("%", "%25")) == path  # idempotent once escaped again
