"""The synth command line: progress and a summary, refusals as command errors."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xueji.students.models import Student

pytestmark = pytest.mark.django_db


def test_synth_generates_the_students_and_prints_progress_and_a_summary(capsys):
    call_command("synth", students=700, province="44", seed=9, batch_size=200)
    out = capsys.readouterr().out
    assert Student.objects.count() == 700
    assert "Generating 700 students in 440000" in out
    assert "schools" in out and "classes created" in out
    # Progress after each batch, then the summary with its phases.
    assert out.count(" / 700 students") >= 3
    assert "700 students, 1,400 family members" in out
    assert "generate and write rows" in out


def test_synth_refuses_an_unknown_province():
    with pytest.raises(CommandError, match="990000"):
        call_command("synth", students=10, province="99")
    assert not Student.objects.exists()
