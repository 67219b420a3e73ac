"""Paging (search.html#paginglinks): next/previous/self links stay correct while data
changes, with and without _sort; cursors are opaque and checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import created_id, post
from tests.conftest import BASE_URL


@pytest.fixture()
def paged(make_app: Callable[..., Flask]) -> tuple[FlaskClient, list[str]]:
    """A fresh app with 23 patients born on a few dates (many ties)."""
    client = make_app().test_client()
    ids = [created_id(post(client, {"resourceType": "Patient", "gender": "other",
                                    "birthDate": f"2000-01-0{1 + i % 3}",
                                    "name": [{"family": f"P{i:02d}"}]}))
           for i in range(23)]
    return client, ids


def get(client: FlaskClient, url: str) -> dict[str, Any]:
    response = client.get(url.removeprefix(BASE_URL))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def relation(body: dict[str, Any], name: str) -> str | None:
    return next((item["url"] for item in body["link"] if item["relation"] == name), None)


def walk(client: FlaskClient, url: str, between: Callable[[int], None] | None = None
         ) -> list[list[str]]:
    pages = []
    while url:
        body = get(client, url)
        pages.append([e["resource"]["id"] for e in body.get("entry", [])])
        if between is not None:
            between(len(pages))
        url = relation(body, "next") or ""
    return pages


@pytest.mark.parametrize("sort", ["", "&_sort=birthdate", "&_sort=-birthdate",
                                  "&_sort=birthdate,-family", "&_sort=-_lastUpdated"])
def test_pages_cover_everything_once(paged: tuple[FlaskClient, list[str]], sort: str) -> None:
    client, ids = paged
    pages = walk(client, f"/Patient?gender=other&_count=5{sort}")
    seen = [i for page in pages for i in page]
    assert sorted(seen) == sorted(ids) and len(pages) == 5


def test_pages_follow_the_sort(paged: tuple[FlaskClient, list[str]]) -> None:
    client, _ids = paged
    pages = walk(client, "/Patient?_count=4&_sort=-birthdate,family")
    births = [get(client, f"/Patient/{i}")["birthDate"] for page in pages for i in page]
    assert births == sorted(births, reverse=True)


def test_previous_returns_the_page_before(paged: tuple[FlaskClient, list[str]]) -> None:
    client, _ids = paged
    first = get(client, "/Patient?_count=5&_sort=birthdate")
    assert relation(first, "previous") is None
    second = get(client, relation(first, "next") or "")
    third = get(client, relation(second, "next") or "")
    back = get(client, relation(third, "previous") or "")
    assert [e["resource"]["id"] for e in back["entry"]] == \
        [e["resource"]["id"] for e in second["entry"]]
    assert relation(back, "next") and relation(back, "previous")


def test_links_stay_correct_while_data_changes(paged: tuple[FlaskClient, list[str]]) -> None:
    client, ids = paged
    deleted: list[str] = []
    added: list[str] = []

    def change(page: int) -> None:
        if page == 1:  # delete one not yet seen, add new ones, update one already seen
            victim = sorted(ids)[-1]
            assert client.delete(f"/Patient/{victim}").status_code in (200, 204)
            deleted.append(victim)
            for _ in range(3):
                added.append(created_id(post(client, {"resourceType": "Patient",
                                                      "gender": "other"})))

    pages = walk(client, "/Patient?gender=other&_count=5", change)
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen))  # nothing twice
    survivors = set(ids) - set(deleted)
    assert survivors <= set(seen)  # nothing that stayed was skipped
    assert not set(deleted) & set(seen[5:])


def test_forged_or_foreign_cursor_is_400(paged: tuple[FlaskClient, list[str]]) -> None:
    client, _ids = paged
    first = get(client, "/Patient?_count=5&_sort=birthdate")
    cursor = (relation(first, "next") or "").split("_cursor=")[1]
    assert client.get(f"/Patient?_count=5&_sort=family&_cursor={cursor}").status_code == 400
    assert client.get("/Patient?_cursor=bm90IGpzb24").status_code == 400
    assert client.get("/Patient?_cursor=%24%24%24").status_code == 400
