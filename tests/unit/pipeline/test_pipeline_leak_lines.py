"""The leak check cuts a public file line by line (each line once per build) only where that
gives the same sentences as cutting the whole file: `line_sentences` says None when a tag or a
shown attribute value runs on to the next line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.plugins.leak_check import _around_body, _read_text, line_sentences, sentences

# Pieces that make the cases that matter: tags (block and inline), attributes the check reads,
# quotes, entities, sentence ends, spaces and line breaks in every place.
PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<span class=x>",
        "<a",
        ">",
        "<",
        "<>",
        "<br>",
        'content="',
        'title="',
        'alt="',
        '"',
        "&amp;",
        "&lt;",
        "。",
        ". ",
        "!",
        "「",
        "  ",
        "\u3000",
        "\n",
        "\n",
        "会員だけの大事な内容です",
        "Members only text here",
        "x",
    ]
)


@given(st.lists(PIECES, max_size=40).map("".join))
@settings(max_examples=400, deadline=None)
def test_a_text_cut_by_line_has_the_sentences_of_the_whole(text: str) -> None:
    lines = text.split("\n")
    by_line = [line_sentences(line) for line in lines]
    together = line_sentences(text)
    assert (together is None) == any(cut is None for cut in by_line)
    if together is not None:
        expected = Counter(sentences(text))
        assert Counter(together) == expected
        assert Counter(s for cut in by_line for s in cut or ()) == expected


def test_a_tag_or_attribute_that_runs_on_is_not_cut_by_line() -> None:
    assert line_sentences('<a\nhref="x">本文です') is None
    assert line_sentences('<meta content="会員だけの\n内容です">') is None
    assert line_sentences("<x <p>\nテキスト>") is None  # "<x" opens once <p> is cut out
    assert line_sentences('<meta content="ひとこと">\n<p>会員だけの内容です。</p>') == [
        "会員だけの内容です。",
        "ひとこと",
    ]


def test_a_file_is_read_as_text_mode_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("一行目\r\n二行目\r三行目\n\xff終わり".encode()[:-3] + b"\xff\xfe")
    with open(path, encoding="utf-8", errors="replace") as handle:
        assert _read_text(str(path)) == handle.read()


@given(st.text("ab<\n", max_size=30), st.text("ab<\n", min_size=1, max_size=70))
def test_the_body_is_found_where_find_finds_it(text: str, body: str) -> None:
    page = text + body + text + body
    at = page.find(body)
    assert _around_body(page, body) == (page[:at], page[at + len(body) :])
