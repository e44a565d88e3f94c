"""PlainSelect writes the same markup as Django's Select, faster."""

import pytest
from django import forms
from django.test.html import parse_html

from helpdesk.widgets import PlainSelect

CHOICES = [
    ("", "Anyone"),
    ("7", "Ann <admin> & co"),
    ("8", 'Bob "the builder"'),
    ("Team", [("9", "Cy"), ("10", "Di")]),
]


@pytest.mark.parametrize("value", [None, "", "7", "10", "missing"])
def test_plain_select_renders_what_django_select_renders(value):
    attrs = {"id": "id_assignee", "required": True, "class": "wide"}
    expected = forms.Select(choices=CHOICES).render("assignee", value, attrs=attrs)
    rendered = PlainSelect(choices=CHOICES).render("assignee", value, attrs=attrs)
    assert parse_html(rendered) == parse_html(expected)


def test_plain_select_escapes_labels_and_marks_the_selected_option():
    rendered = PlainSelect(choices=CHOICES).render("assignee", "8")
    assert "Ann &lt;admin&gt; &amp; co" in rendered
    assert '<option value="8" selected>Bob &quot;the builder&quot;</option>' in rendered
    assert rendered.count("selected") == 1


def test_a_bound_form_field_uses_it_with_its_current_value():
    class Form(forms.Form):
        assignee = forms.ChoiceField(choices=CHOICES, widget=PlainSelect, required=False)

    html = str(Form({"assignee": "9"})["assignee"])
    assert '<option value="9" selected>Cy</option>' in html
    assert 'name="assignee"' in html and 'id="id_assignee"' in html
