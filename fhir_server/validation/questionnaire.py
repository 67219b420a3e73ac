"""Validate a QuestionnaireResponse against its Questionnaire (FHIR R4 questionnaireresponse.html
"Questionnaire and QuestionnaireResponse" rules, questionnaire.html item types).

Checks: every linkId exists at its place in the Questionnaire's item tree, in order, without
repeating a non-repeating item; answers have the value type of the item type; `repeats`;
`answerOption` and `answerValueSet` (via the terminology service); `maxLength`; groups and
display items carry no answers; and, once the response is completed or amended, `required`
items are answered and items disabled by `enableWhen` are not. A missing item is named by
its linkId: `QuestionnaireResponse.item.where(linkId='onset')`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.errors import Issue

ANSWER_TYPES: dict[str, tuple[str, ...]] = {
    "boolean": ("valueBoolean",), "decimal": ("valueDecimal",), "integer": ("valueInteger",),
    "date": ("valueDate",), "dateTime": ("valueDateTime",), "time": ("valueTime",),
    "string": ("valueString",), "text": ("valueString",), "url": ("valueUri",),
    "choice": ("valueCoding", "valueString", "valueInteger", "valueDate", "valueTime",
               "valueReference"),
    "open-choice": ("valueCoding", "valueString", "valueInteger", "valueDate", "valueTime",
                    "valueReference"),
    "attachment": ("valueAttachment",), "reference": ("valueReference",),
    "quantity": ("valueQuantity",),
}
Item = dict[str, Any]
InValueSet = Callable[[str, str | None, str], tuple[bool | None, str | None]]


def _value(answer: Item) -> tuple[str | None, Any]:
    return next(((k, v) for k, v in answer.items() if k.startswith("value")), (None, None))


def _same(answer_key: str, answer: Any, option_key: str, option: Any) -> bool:
    if answer_key != option_key:
        return False
    if answer_key == "valueCoding":
        return bool(answer.get("code") == option.get("code")
                    and answer.get("system") == option.get("system"))
    if answer_key == "valueReference":
        return bool(answer.get("reference") == option.get("reference"))
    return bool(answer == option)


class _Check:
    """One response against one questionnaire."""

    def __init__(self, response: Item, in_value_set: InValueSet) -> None:
        self.response = response
        self.in_value_set = in_value_set
        self.completed = response.get("status") in ("completed", "amended")
        self.answers: dict[str, list[tuple[str | None, Any]]] = {}
        self.issues: list[Issue] = []
        self._collect(response.get("item", []))

    def _collect(self, items: list[Item]) -> None:
        for item in items:
            for answer in item.get("answer", []):
                self.answers.setdefault(item.get("linkId", ""), []).append(_value(answer))
                self._collect(answer.get("item", []))
            self._collect(item.get("item", []))

    def report(self, code: str, text: str, path: str, severity: str = "error") -> None:
        """Record one issue."""
        self.issues.append(Issue(code, text, severity, (path,)))

    def enabled(self, question: Item) -> bool:
        """enableWhen / enableBehavior (questionnaire.html#enableWhen); true without them."""
        conditions = question.get("enableWhen", [])
        if not conditions:
            return True
        results = [self._condition(c) for c in conditions]
        return any(results) if question.get("enableBehavior") == "any" else all(results)

    def _condition(self, condition: Item) -> bool:
        answers = self.answers.get(condition.get("question", ""), [])
        operator = condition.get("operator")
        expected_key, expected = _value({k.replace("answer", "value", 1): v
                                         for k, v in condition.items() if k.startswith("answer")})
        if operator == "exists":
            return bool(answers) == bool(expected)
        hits = [_same(k or "", v, expected_key or "", expected) for k, v in answers]
        if operator == "=":
            return any(hits)
        if operator == "!=":
            return bool(answers) and not any(hits)
        comparable = [v for k, v in answers if k == expected_key and not isinstance(v, dict)]
        tests = {">": lambda v: v > expected, "<": lambda v: v < expected,
                 ">=": lambda v: v >= expected, "<=": lambda v: v <= expected}
        test = tests.get(operator or "")
        return test is not None and any(test(v) for v in comparable)

    def items(self, questions: list[Item], answers: list[Item], path: str) -> None:
        """Match response items to question items at one level of the tree."""
        by_link = {q.get("linkId"): (i, q) for i, q in enumerate(questions)}
        last_index, seen = -1, set()
        for index, item in enumerate(answers):
            where = f"{path}.item[{index}]"
            link = item.get("linkId")
            if link not in by_link:
                self.report("structure", f"linkId '{link}' is not an item of the questionnaire "
                            "at this place", f"{where}.linkId")
                continue
            position, question = by_link[link]
            if position < last_index:
                self.report("structure", f"Item '{link}' is out of order", f"{where}.linkId")
            if link in seen and not (question.get("type") == "group" and question.get("repeats")):
                self.report("structure", f"Item '{link}' appears more than once", where)
            last_index = position
            seen.add(link)
            self.item(question, item, where)
        if self.completed:
            for question in questions:
                link = question.get("linkId")
                if question.get("required") and link not in seen and self.enabled(question):
                    self.report("required", f"Required item '{link}' is missing",
                                f"{path}.item.where(linkId='{link}')")

    def item(self, question: Item, item: Item, path: str) -> None:
        """One response item against its question."""
        kind = question.get("type")
        answers = item.get("answer", [])
        link = question.get("linkId")
        if self.completed and not self.enabled(question) and (answers or item.get("item")):
            self.report("invalid", f"Item '{link}' is answered although it is not enabled", path)
        if kind in ("group", "display"):
            if answers:
                self.report("structure", f"Item '{link}' is a {kind}: it takes no answer",
                            f"{path}.answer")
            if kind == "group":
                self.items(question.get("item", []), item.get("item", []), path)
            return
        if len(answers) > 1 and not question.get("repeats"):
            self.report("structure", f"Item '{link}' does not repeat: one answer only",
                        f"{path}.answer")
        if self.completed and question.get("required") and not answers:
            self.report("required", f"Required item '{link}' has no answer", path)
        for index, answer in enumerate(answers):
            self.answer(question, answer, f"{path}.answer[{index}]")
        if item.get("item"):
            self.items(question.get("item", []), item["item"], path)

    def answer(self, question: Item, answer: Item, path: str) -> None:
        """One answer: type, options, value set, length; nested items."""
        kind = question.get("type", "")
        key, value = _value(answer)
        allowed = ANSWER_TYPES.get(kind, ())
        link = question.get("linkId")
        if key not in allowed:
            self.report("structure", f"Item '{link}' of type {kind} needs an answer of type "
                        f"{' or '.join(allowed)}, not {key}", path)
            return
        where = f"{path}.{key}"
        options = [_value(o) for o in question.get("answerOption", [])]
        free_text = kind == "open-choice" and key == "valueString"
        if options and not free_text and not any(_same(key, value, k or "", v)
                                                 for k, v in options):
            self.report("code-invalid", f"The answer to '{link}' is not one of its options",
                        where)
        value_set = question.get("answerValueSet")
        if value_set and key == "valueCoding" and isinstance(value.get("code"), str):
            ok, message = self.in_value_set(value_set, value.get("system"), value["code"])
            if ok is None:
                self.report("not-found", f"answerValueSet {value_set} of '{link}' is unknown: "
                            "answer not checked", where, "warning")
            elif not ok:
                self.report("code-invalid", f"The answer to '{link}' is not in {value_set}"
                            + (f": {message}" if message else ""), where)
        limit = question.get("maxLength")
        if isinstance(limit, int) and isinstance(value, str) and len(value) > limit:
            self.report("too-long", f"The answer to '{link}' exceeds {limit} characters", where)
        if answer.get("item"):
            self.items(question.get("item", []), answer["item"], path)


def check_response(response: Item, questionnaire: Item, in_value_set: InValueSet) -> list[Issue]:
    """Issues of a QuestionnaireResponse against its Questionnaire."""
    check = _Check(response, in_value_set)
    check.items(questionnaire.get("item", []), response.get("item", []), "QuestionnaireResponse")
    return check.issues
