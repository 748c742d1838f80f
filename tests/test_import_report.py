"""The report macros the three import previews share (registry, leads, live sessions)."""
from types import SimpleNamespace

from flask import render_template_string

MACROS = '{% from "_macros/import_report.html" import details_cell, report_table, result_cell %}'


def render(app, source: str, **context) -> str:
    with app.test_request_context():
        # Whitespace between tags shows nothing (and block tags leave none behind): compare without it.
        return " ".join(render_template_string(MACROS + source, **context).split()).replace("> <", "><")


def test_findings_are_named_by_a_mapping_or_a_function_and_a_finding_without_a_field_is_its_message(app):
    live = render(app, "{{ details_cell(errors, warnings, labels) }}", labels={"title": "Title"},
                  errors=[("title", "This cell is empty."), ("", "Banned account.")],
                  warnings=[("nearby", "Overlaps HZ-002.")])
    assert '<li class="error-text"><b>Title</b>: This cell is empty.</li>' in live
    assert '<li class="error-text">Banned account.</li>' in live
    assert '<li class="warn-text"><b>nearby</b>: Overlaps HZ-002.</li>' in live  # unknown field: its own name
    registry = render(app, "{% call details_cell(errors, {}, label_of) %}<li>more</li>{% endcall %}",
                      errors={"code": "Taken."}, label_of=lambda name: name.upper())
    assert '<b>CODE</b>: Taken.</li><li>more</li></ul></td>' in registry


def test_the_table_says_when_rows_are_cut_or_none_show(app):
    rows = [SimpleNamespace(line=2, status="new")]
    source = ("{% call(row) report_table(rows, total, ['Record', 'Result'], class_='extra', empty=empty) %}"
              "<td>{{ row.status }}</td>{{ result_cell(row.status, 'New') }}{% endcall %}")
    page = render(app, source, rows=rows, total=3, empty=None)
    assert "Showing the first 1 of 3 rows." in page and '<table class="data stack import-report extra">' in page
    assert ('<td class="num" data-label="Line">2</td><td>new</td><td data-label="Result">'
            '<span class="badge badge-new">New</span></td>') in page
    empty = render(app, source, rows=[], total=0, empty="No rows with this result.")
    assert '<tr><td colspan="3" class="muted">No rows with this result.</td></tr>' in empty
    assert "Showing the first" not in empty
    assert "<tbody></tbody>" in render(app, source, rows=[], total=0, empty=None)
