"""Reading a QuestionnaireResponse's answers by linkId, with the FHIRPath of each
(questionnaireresponse.html: item.linkId, item.answer.value[x], nested item)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ROOT = "QuestionnaireResponse"


@dataclass(frozen=True)
class Answer:
    """One answer: its item's linkId, the FHIRPath of its value, the value[x] key and value."""

    link: str
    path: str
    key: str
    value: Any

    @property
    def code(self) -> str | None:
        """The code of a Coding answer (None otherwise)."""
        if self.key == "valueCoding" and isinstance(self.value, dict):
            code = self.value.get("code")
            return code if isinstance(code, str) else None
        return None

    @property
    def system(self) -> str | None:
        """The system of a Coding answer."""
        if self.key == "valueCoding" and isinstance(self.value, dict):
            system = self.value.get("system")
            return system if isinstance(system, str) else None
        return None


def _walk(items: Any, path: str) -> Iterator[Answer]:
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        where = f"{path}.item[{index}]"
        for number, answer in enumerate(item.get("answer") or []):
            if not isinstance(answer, dict):
                continue
            for key, value in answer.items():
                if key.startswith("value"):
                    yield Answer(str(item.get("linkId")), f"{where}.answer[{number}].{key}",
                                 key, value)
            yield from _walk(answer.get("item"), f"{where}.answer[{number}]")
        yield from _walk(item.get("item"), where)


def answers(response: Mapping[str, Any]) -> list[Answer]:
    """Every answer of a response, depth first, in document order."""
    return list(_walk(response.get("item"), ROOT))


def of(found: list[Answer], link: str) -> list[Answer]:
    """The answers to one linkId."""
    return [answer for answer in found if answer.link == link]


def first(found: list[Answer], link: str) -> Answer | None:
    """The first answer to one linkId."""
    return next((answer for answer in found if answer.link == link), None)


def canonical(response: Mapping[str, Any]) -> str:
    """The response's questionnaire URL without its |version."""
    value = response.get("questionnaire")
    return value.split("|", 1)[0] if isinstance(value, str) else ""


def completed(response: Mapping[str, Any] | None) -> bool:
    """True when the answers are final (completed or amended)."""
    return response is not None and response.get("status") in ("completed", "amended")


def reference_id(reference: Any, type_name: str) -> str | None:
    """The id of a literal reference to `type_name` (relative, absolute or versioned)."""
    text = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str):
        return None
    head, _, tail = text.split("/_history/")[0].rstrip("/").rpartition("/")
    return tail if tail and (head == type_name or head.endswith(f"/{type_name}")) else None
