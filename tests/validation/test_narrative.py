"""check_div: Narrative.div is FHIR XHTML (narrative.html#xhtml, invariants txt-1)."""

from __future__ import annotations

import pytest

from fhir_server.validation.narrative import check_div

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


@pytest.mark.parametrize("div", [
    f"<div {NS}><p>Nguyễn Văn An, <b>born</b> 1985&nbsp;&amp; well</p></div>",
    f'<div {NS}><table><tr><td>1</td></tr></table><a href="http://x">x</a></div>',
    f'<div {NS} xml:lang="vi"><img src="#photo" alt="p"/></div>',
])
def test_fhir_xhtml_passes(div: str) -> None:
    # narrative.html#xhtml: basic HTML formatting elements, HTML entities as the validator does
    assert check_div(div, "Patient.text.div") == []


@pytest.mark.parametrize(("div", "words"), [
    (f"<div {NS}><script>alert(1)</script></div>", "<script>"),
    (f'<div {NS}><p onclick="steal()">x</p></div>', "onclick"),
    (f'<div {NS}><a href=" javascript:alert(1)">x</a></div>', "Script URL"),
    (f"<div {NS}><iframe src='http://x'/></div>", "<iframe>"),
    ("<div><p>no namespace</p></div>", "namespace"),
    (f"<p {NS}>not a div</p>", "<div>"),
    (f"<div {NS}><p>unclosed</div>", "well-formed"),
    (f'<!DOCTYPE x [<!ENTITY e "boom">]><div {NS}>&e;</div>', "DOCTYPE"),
])
def test_unsafe_or_invalid_narrative_is_refused(div: str, words: str) -> None:
    # narrative.html#xhtml: no scripts, forms, event attributes or script URLs
    issues = check_div(div, "Patient.text.div")
    assert issues and all(issue.expression == ("Patient.text.div",) for issue in issues)
    assert any(words in issue.diagnostics for issue in issues), issues
