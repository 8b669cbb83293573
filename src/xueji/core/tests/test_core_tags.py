from django.template import Context, Template
from django.utils import translation


def render(source: str, **context: object) -> str:
    return Template("{% load core_tags %}" + source).render(Context(context))


def test_table_head_has_a_column_heading_per_label():
    assert render('{% table_head "A" "B" %}') == (
        '<thead><tr><th scope="col">A</th><th scope="col">B</th></tr></thead>'
    )


def test_table_head_numbered_and_actions_columns():
    assert render('{% table_head "A" numbered=True actions=flag %}', flag=True) == (
        '<thead><tr><th scope="col" class="num">#</th><th scope="col">A</th>'
        '<th scope="col"></th></tr></thead>'
    )
    assert render('{% table_head "A" actions=flag %}', flag=False) == (
        '<thead><tr><th scope="col">A</th></tr></thead>'
    )


def test_table_head_translates_and_escapes_its_labels():
    with translation.override("zh-hans"):
        assert render('{% table_head _("Name") label %}', label="<b>") == (
            '<thead><tr><th scope="col">姓名</th><th scope="col">&lt;b&gt;</th></tr></thead>'
        )


def test_the_empty_state_has_a_title_and_an_optional_text():
    html = Template('{% include "includes/empty.html" with title=t text=x %}').render(
        Context({"t": "Nothing", "x": "Add one."})
    )
    assert "<strong>Nothing</strong>" in html and "Add one." in html
    alone = Template('{% include "includes/empty.html" with title=t %}').render(
        Context({"t": "Nothing"})
    )
    assert "<strong>Nothing</strong>" in alone and alone.count("<") == 4
