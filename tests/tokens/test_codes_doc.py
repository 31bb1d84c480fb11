"""docs/reason-codes.md is what the code's vocabulary says now (issue 14 item 5)."""

from __future__ import annotations

from webapp.tokens import REASON_CODES, codes_doc


def test_every_reason_code_is_documented():
    assert sorted(set(REASON_CODES) - set(codes_doc.MEANINGS)) == []
    assert {number for _, number in REASON_CODES.values() if number is not None} \
        <= set(codes_doc.VIDEOSDK_ERRORS)


def test_the_reason_codes_document_is_current():
    current = codes_doc.DOC.read_text(encoding="utf-8") if codes_doc.DOC.exists() else ""
    assert current == codes_doc.render(), (
        f"{codes_doc.DOC} is not current: run `{codes_doc.COMMAND}`")


def test_every_code_has_its_row_and_the_check_command_says_stale(tmp_path, monkeypatch,
                                                                capsys):
    text = codes_doc.render()
    for code, (severity, number) in REASON_CODES.items():
        assert f"| `{code}` | {severity} | {number or ''} |" in text
    stale = tmp_path / "reason-codes.md"
    stale.write_text(text.replace("`expired`", "`gone`"), encoding="utf-8")
    monkeypatch.setattr(codes_doc, "DOC", stale)
    assert codes_doc.main(["--check"]) == 1
    assert codes_doc.COMMAND in capsys.readouterr().err
    assert codes_doc.main(["--write"]) == 0
    assert codes_doc.main(["--check"]) == 0
