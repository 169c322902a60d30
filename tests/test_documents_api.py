"""Documents through the API: send one, read its proposals, accept, correct and reject them."""

from __future__ import annotations

import pytest

from tests.api_client import BASE, Api, assert_problem

REFINING = (
    "ТАШКЕНТ, 20 ноября.\n\n"
    "Первая Консультативная встреча глав государств Центральной Азии состоялась "
    "15 марта 2018 года в Астане.\n\n"
    "Пятый саммит «Центральная Азия – Китай» пройдет в Астане 3 июня 2026 года.\n\n"
    "Товарооборот между странами региона за последние три десятилетия вырос более чем "
    "в 30 раз."
)
DOCUMENT = {"title": "Пресс-релиз", "date": "2025-11-20", "lang": "ru", "text": REFINING}


def send(api: Api, document: dict[str, object] = DOCUMENT) -> dict[str, object]:
    response = api.client.post("/api/v1/documents", json=document, headers=api.auth())
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{BASE}/api/v1/documents/{response.json()['id']}"
    return response.json()


def by_date(document: dict[str, object], edtf: str) -> dict[str, object]:
    found = [p for p in document["proposals"] if p["date"]["edtf"] == edtf]  # type: ignore[index,union-attr]
    assert len(found) == 1, [p["date"] for p in document["proposals"]]  # type: ignore[index,union-attr]
    return found[0]


def test_a_document_becomes_paragraphs_and_proposals_with_evidence(api: Api) -> None:
    document = send(api)
    assert document["paragraphs"][1].startswith("Первая Консультативная встреча")  # type: ignore[index]
    dates = sorted(p["date"]["edtf"] for p in document["proposals"])  # type: ignore[union-attr,index]
    assert dates == ["2018-03-15", "2026-06-03"]  # nothing from "three decades" or "30 times"
    summit = by_date(document, "2026-06-03")
    assert summit["state"] == "open"
    assert summit["fact"]["kind"] == "summit" and summit["fact"]["status"] == "planned"  # type: ignore[index]
    assert summit["fact"]["place"]["country"] == "KZ"  # type: ignore[index]
    evidence = summit["evidence"]
    assert evidence["paragraph"] == 3  # type: ignore[index]
    assert evidence["quote"] in document["paragraphs"][2]  # type: ignore[index]
    assert summit["match"] is None
    assert summit["date"]["label"] == "3 June 2026"  # type: ignore[index]

    again = api.client.get(f"/api/v1/documents/{document['id']}")
    assert again.status_code == 200 and again.json() == document
    listed = api.client.get("/api/v1/documents").json()["documents"]
    assert [(d["id"], d["proposals"]) for d in listed] == [
        (document["id"], {"open": 2, "total": 2})
    ]
    queue = api.client.get("/api/v1/proposals").json()
    assert [e["proposal"]["id"] for e in queue] == [p["id"] for p in document["proposals"]]  # type: ignore[union-attr,index]


def test_the_same_document_twice_is_a_conflict_naming_the_first(api: Api) -> None:
    first = send(api)
    response = api.client.post("/api/v1/documents", json=DOCUMENT, headers=api.auth())
    assert_problem(response, 409, "received already")
    assert response.headers["location"].endswith(f"/api/v1/documents/{first['id']}")


def test_a_more_precise_date_of_a_stored_fact_is_a_refinement_applied_on_accept(api: Api) -> None:
    document = send(api)
    meeting = by_date(document, "2018-03-15")
    assert meeting["match"] == {
        "fact_id": "first-consultative-meeting-central-asia-2018",
        "relation": "refines",
    }
    url = f"/api/v1/documents/{document['id']}/proposals/{meeting['id']}/accept"
    assert_problem(api.client.post(url, headers=api.auth()), 428)
    assert_problem(api.client.post(url, headers=api.auth(**{"If-Match": '"9"'})), 412)
    before = api.client.get("/api/v1/facts/first-consultative-meeting-central-asia-2018")
    accepted = api.client.post(url, headers=api.auth(**{"If-Match": before.headers["etag"]}))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    fact = api.client.get("/api/v1/facts/first-consultative-meeting-central-asia-2018").json()
    assert fact["date"]["edtf"] == "2018-03-15"
    assert fact["sources"][-1]["title"] == "Пресс-релиз"
    assert fact["sources"][-1]["locator"] == "paragraph 2"
    history = api.client.get(
        "/api/v1/facts/first-consultative-meeting-central-asia-2018/history"
    ).json()
    assert [e["type"] for e in history[-2:]] == ["FactRescheduled.v1", "SourceCited.v1"]
    assert history[-1]["actor"] == "editor"
    assert_problem(
        api.client.post(url, headers=api.auth(**{"If-Match": accepted.headers["etag"]})), 409
    )


def test_accepting_a_new_fact_needs_what_the_text_lacks_and_stores_nothing_until_then(
    api: Api,
) -> None:
    document = send(api)
    summit = by_date(document, "2026-06-03")
    url = f"/api/v1/documents/{document['id']}/proposals/{summit['id']}/accept"
    head = api.client.get("/health").json()["last_position"]
    refused = api.client.post(
        url, json={"id": "fifth-central-asia-china-summit-2026"}, headers=api.auth()
    )
    assert refused.status_code == 422, refused.text
    assert api.client.get("/health").json()["last_position"] == head
    accepted = api.client.post(
        url,
        json={
            "id": "fifth-central-asia-china-summit-2026",
            "title": {"en": "Fifth Central Asia–China summit"},
            "summary": {"en": "The fifth summit in Astana.", "ru": "Пятый саммит в Астане."},
        },
        headers=api.auth(),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["location"].endswith(
        "/api/v1/facts/fifth-central-asia-china-summit-2026"
    )
    fact = api.client.get("/api/v1/facts/fifth-central-asia-china-summit-2026?lang=ru").json()
    assert fact["date"]["edtf"] == "2026-06-03" and fact["status"] == "planned"
    assert fact["sources"][0]["locator"] == "paragraph 3"


def test_rejecting_needs_a_reason_and_is_final(api: Api) -> None:
    document = send(api)
    proposal = document["proposals"][0]  # type: ignore[index]
    url = f"/api/v1/documents/{document['id']}/proposals/{proposal['id']}/reject"
    assert api.client.post(url, json={}, headers=api.auth()).status_code == 400
    assert_problem(api.client.post(url, json={"reason": "  "}, headers=api.auth()), 422)
    rejected = api.client.post(url, json={"reason": "already known"}, headers=api.auth())
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["reason"]) == ("rejected", "already known")
    assert_problem(api.client.post(url, json={"reason": "again"}, headers=api.auth()), 409)
    accept = url.replace("/reject", "/accept")
    assert_problem(api.client.post(accept, headers=api.auth()), 409)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"lang": "de"}, 422),
        ({"date": "2025-13-01"}, 400),
        ({"text": ""}, 422),
        ({"text": "x" * 200_001}, 400),
        ({"title": "a\nb"}, 422),
        ({"unknown": 1}, 400),
    ],
)
def test_a_bad_document_is_refused_and_stores_nothing(
    api: Api, change: dict[str, object], status: int
) -> None:
    head = api.client.get("/health").json()["last_position"]
    response = api.client.post("/api/v1/documents", json={**DOCUMENT, **change}, headers=api.auth())
    assert_problem(response, status)
    assert api.client.get("/health").json()["last_position"] == head


def test_documents_need_a_token_and_unknown_ones_are_404(api: Api) -> None:
    assert_problem(api.client.post("/api/v1/documents", json=DOCUMENT), 401)
    assert_problem(api.client.get("/api/v1/documents/2025-11-20-000000000000"), 404)
    assert_problem(api.client.get("/api/v1/documents/x%0A"), 404)
    document = send(api)
    missing = f"/api/v1/documents/{document['id']}/proposals/p999/accept"
    assert_problem(api.client.post(missing, headers=api.auth()), 404)
