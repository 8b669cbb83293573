"""The search page posts its criteria, so that a full ID number or student number stays out of
the address bar, the browser's history and the access logs: the htmx answer pushes an address
with the criteria but without a query that holds a digit, the export buttons post the criteria
too, and a GET (a roster's ?class=, an old bookmark) still searches."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.testing.factories import member

from .conftest import Registry, client_as

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _addresses(html: str) -> list[str]:
    """Every address the page names: links, form actions, htmx requests."""
    found = re.findall(r'\s(?:href|action|hx-get|hx-post|src)="([^"]*)"', html)
    return [unescape(address) for address in found]


def _leaks(address: str, number: str) -> bool:
    """Whether an address holds the number, or any six of its digits in a row (a birth date, a
    county code and the like)."""
    digits = re.sub(r"\D", "", number)
    runs = {digits[i : i + 6] for i in range(len(digits) - 5)}
    return number in address or any(run in address for run in runs)


def test_the_search_form_posts_with_a_csrf_token(registry):
    page = client_as(registry.registrar_a).get("/students/search/").content.decode()
    form = re.search(r'<form class="search-form"[^>]*>(.*?)</form>', page, re.DOTALL)
    assert form is not None
    tag = form.group(0)[: form.group(0).index(">") + 1]
    assert 'method="post"' in tag and 'action="/students/search/"' in tag
    assert 'hx-post="/students/search/"' in tag
    assert "hx-get" not in tag and "hx-push-url" not in tag  # the view says what to push
    assert 'name="csrfmiddlewaretoken"' in form.group(1)


def test_the_token_of_the_page_lets_the_search_through(registry):
    # The CSRF check enforced, as in a browser: the page's token is what lets the post in.
    client = Client(enforce_csrf_checks=True)
    client.force_login(registry.registrar_a)
    page = client.get("/students/search/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    assert client.post("/students/search/", {"q": "zcm"}, headers=HTMX).status_code == 403
    wanted = {"q": "zcm", "csrfmiddlewaretoken": token.group(1)}
    response = client.post("/students/search/", wanted, headers=HTMX)
    assert response.status_code == 200
    assert f"/students/{registry.student_a.pk}/" in response.content.decode()


@pytest.mark.parametrize("which", ["id_number", "student_number"])
def test_a_full_number_finds_the_child_and_stays_out_of_every_address(registry, which):
    student = registry.student_a
    number = student.reveal_id_number() if which == "id_number" else student.reveal_student_number()
    response = client_as(registry.registrar_a).post(
        "/students/search/", {"q": number}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f"/students/{student.pk}/" in html and "1 student found" in html
    # The address bar keeps the search page, without the number.
    assert response["HX-Push-Url"] == "/students/search/"
    # The export buttons post the number in their bodies, to addresses without it.
    actions = re.findall(r'<form method="post" action="([^"]*)">', html)
    assert sorted(actions) == ["/exports/students.csv", "/exports/students.xlsx"]
    assert html.count(f'<input type="hidden" name="q" value="{number}">') == 2
    for address in [response["HX-Push-Url"], *_addresses(html)]:
        assert not _leaks(address, number), address


def test_a_number_is_left_out_but_the_grade_and_class_are_pushed(registry):
    number = registry.student_a.reveal_id_number()
    wanted = {"q": number, "grade": 1, "class": registry.class_a.pk}
    response = client_as(registry.registrar_a).post("/students/search/", wanted, headers=HTMX)
    assert f"/students/{registry.student_a.pk}/" in response.content.decode()
    assert response["HX-Push-Url"] == f"/students/search/?grade=1&class={registry.class_a.pk}"


@pytest.mark.parametrize("query", ["张春铭", "zhangchunming", "zcm"])
def test_a_name_search_pushes_its_query(registry: Registry, query):
    client = client_as(registry.registrar_a)
    response = client.post("/students/search/", {"q": query}, headers=HTMX)
    assert f"/students/{registry.student_a.pk}/" in response.content.decode()
    pushed = response["HX-Push-Url"]
    assert pushed == "/students/search/?" + urlencode({"q": query})
    # The pushed address, opened again (a reload, the history), shows the same search.
    again = client.get(pushed).content.decode()
    assert "<html" in again and f"/students/{registry.student_a.pk}/" in again


def test_a_search_without_criteria_pushes_the_bare_page(registry):
    response = client_as(registry.registrar_a).post("/students/search/", {"q": ""}, headers=HTMX)
    assert "Type a name to start" in response.content.decode()
    assert response["HX-Push-Url"] == "/students/search/"


def test_without_javascript_the_post_answers_the_full_page(registry):
    number = registry.student_a.reveal_id_number()
    response = client_as(registry.registrar_a).post("/students/search/", {"q": number})
    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page
    assert f"/students/{registry.student_a.pk}/" in page and "1 student found" in page
    assert not response.has_header("HX-Push-Url")
    assert f'value="{number}"' in page  # the form keeps what was typed, to search again


def test_a_get_still_searches(registry):
    # A roster's link (?class=) and an old bookmark.
    client = client_as(registry.registrar_a)
    page = client.get("/students/search/", {"class": registry.class_a.pk}).content.decode()
    assert f"/students/{registry.student_a.pk}/" in page
    number = registry.student_a.reveal_id_number()
    page = client.get("/students/search/", {"q": number}).content.decode()
    assert f"/students/{registry.student_a.pk}/" in page


def test_a_role_that_may_not_search_may_not_post_either(registry):
    teacher = member(Role.SUBJECT_TEACHER, school=registry.school_a)
    client = client_as(teacher)
    assert client.post("/students/search/", {"q": "zcm"}, headers=HTMX).status_code == 403


def test_htmx_restoring_a_pushed_address_gets_the_whole_page(registry):
    # Back in the history with no copy kept, htmx fetches the pushed address and replaces the
    # page's body with the answer: the whole page, not the results alone.
    client = client_as(registry.registrar_a)
    pushed = client.post("/students/search/", {"q": "zcm"}, headers=HTMX)["HX-Push-Url"]
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    page = client.get(pushed, headers=restore).content.decode()
    assert "<html" in page and 'class="search-form"' in page
    assert f"/students/{registry.student_a.pk}/" in page


def test_htmx_keeps_no_copy_of_the_results_in_the_browser(registry):
    """htmx saves pages it navigates in local storage unless told not to: the results hold
    children's records and perhaps the number searched for."""
    page = client_as(registry.registrar_a).get("/students/search/").content.decode()
    results = re.search(r'<div id="results"[^>]*>', page)
    assert results is not None and 'hx-history="false"' in results.group(0)
