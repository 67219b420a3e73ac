"""Helpers for driving the SMART authorization pages as a browser would: parse the forms of a
page (stdlib html.parser) and submit them with the test client."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse


@dataclass
class Form:
    """One form of a page: its id, action, fields (hidden, text, checked radios) and buttons."""

    id: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    radios: list[str] = field(default_factory=list)
    checked: list[tuple[str, str]] = field(default_factory=list)  # ticked checkboxes
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Form] = {}
        self.current: Form | None = None
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = Form(a.get("id", ""), a.get("action", ""))
            self.forms[self.current.id] = self.current
        elif tag in ("link", "script", "img"):
            self.assets.append(a.get("href") or a.get("src") or "")
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif self.current is not None and tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.current.checked.append((a["name"], a.get("value", "on")))
            elif a.get("type") == "radio":
                self.current.radios.append(a["value"])
                if "checked" in a:
                    self.current.fields[a["name"]] = a["value"]
            else:
                self.current.fields[a["name"]] = a.get("value", "")
        elif self.current is not None and tag == "button" and a.get("name"):
            self.current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def parse(page: TestResponse) -> _Forms:
    """The forms, links and assets of an HTML page."""
    parser = _Forms()
    parser.feed(page.get_data(as_text=True))
    return parser


def submit(web: FlaskClient, page: TestResponse, form_id: str,
           untick: tuple[str, ...] = (), **values: Any) -> TestResponse:
    """Fill a form of the page with these values (unticking these checkboxes) and post it."""
    form = parse(page).forms[form_id]
    data = MultiDict(list({**form.fields, **values}.items()))
    for name, value in form.checked:
        if value not in untick:
            data.add(name, value)
    return web.post(form.action, data=data)
