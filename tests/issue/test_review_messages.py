"""Messages for hostile or broken files say what is wrong and what to do (review finding 14)."""

from __future__ import annotations

from pathlib import Path

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def run_check(cli: object) -> str:
    result = cli("check", "2024-q4")  # type: ignore[operator]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return str(result.output)


def test_billion_laughs_says_what_and_what_to_do(cli: object, workspace: Path) -> None:
    (workspace / "newsletters" / "2024-q4" / "issue.yaml").write_text(LAUGHS, "utf-8")
    output = run_check(cli)
    assert "issue.yaml:" in output
    assert "alias" in output and "200,000" in output
    assert "too many values (aliases?)" not in output
    assert "write" in output or "remove" in output


def test_an_empty_publication_file_asks_for_a_publication(cli: object, workspace: Path) -> None:
    (workspace / "newsletters" / "kom.yaml").write_text("# nothing yet\n", "utf-8")
    output = run_check(cli)
    assert "newsletters/kom.yaml:1:1: error: file is empty" in output
    assert "fields of an issue" not in output
    assert "publication" in output and "nyhetsbrev init" in output


def test_a_lone_surrogate_is_explained_in_place(cli: object, workspace: Path) -> None:
    path = workspace / "newsletters" / "kom.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("title: Nyhetsbrev fra KOM", 'title: "Nyhetsbrev \\ud800"'))
    output = run_check(cli)
    assert "newsletters/kom.yaml:5:8: error: title:" in output
    assert "unable to parse raw data" not in output
    assert "\\ud800" in output and "half" in output
