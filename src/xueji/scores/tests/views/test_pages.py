"""The score pages: the subject teacher's classes and the entry sheet; the registrar's page."""

import pytest

from xueji.scores.models import Score, TeachingAssignment
from xueji.students.tests.views.conftest import client_as

pytestmark = pytest.mark.django_db


def test_the_subject_teacher_lands_on_the_assigned_classes(taught):
    response = client_as(taught["subject_teacher"]).get("/", follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/scores/"
    assert f"/scores/{taught['assignment'].pk}/" in page
    assert "/students/search/" not in page  # no search for a subject teacher


def test_the_sheet_shows_names_only_and_saves_scores(taught):
    client = client_as(taught["subject_teacher"])
    url = f"/scores/{taught['assignment'].pk}/"
    page = client.get(url).content.decode()
    pupil = taught["pupil"]
    assert pupil.name in page
    assert (
        pupil.reveal_student_number() not in page and pupil.reveal_student_number()[:7] not in page
    )
    assert str(pupil.birth_date) not in page and f"/students/{pupil.pk}/" not in page
    assert taught["other"].name not in page
    response = client.post(url, {f"score-{pupil.pk}": "88.5"})
    assert response.status_code == 302
    assert str(Score.objects.get().score) == "88.5"


def test_a_bad_score_is_shown_next_to_the_name(taught):
    pupil = taught["pupil"]
    response = client_as(taught["subject_teacher"]).post(
        f"/scores/{taught['assignment'].pk}/", {f"score-{pupil.pk}": "200"}
    )
    assert response.status_code == 400
    assert "A score is a number from 0 to 150" in response.content.decode()
    assert not Score.objects.exists()


def test_the_subject_teacher_cannot_open_records_rosters_or_search(taught):
    client = client_as(taught["subject_teacher"])
    assert client.get(f"/students/{taught['pupil'].pk}/").status_code == 403
    assert client.get(f"/classes/{taught['mine'].pk}/").status_code == 403
    assert client.get("/students/search/", {"q": "zcm"}).status_code == 403


def test_the_registrar_assigns_and_ends_assignments_from_the_page(taught):
    client = client_as(taught["registrar"])
    page = client.get("/teaching/").content.decode()
    assert "Mathematics" in page
    response = client.post(
        "/teaching/add/",
        {
            "school_class": taught["mine"].pk,
            "subject": "chinese",
            "teacher": taught["subject_teacher"].pk,
        },
    )
    assert response.status_code == 302
    assert TeachingAssignment.objects.count() == 2
    response = client.post(f"/teaching/{taught['assignment'].pk}/remove/", {"confirmed": "yes"})
    assert response.status_code == 302
    assert TeachingAssignment.objects.count() == 1
    assert client_as(taught["principal"]).get("/teaching/").status_code == 403
