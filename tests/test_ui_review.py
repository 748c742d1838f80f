"""Regressions found by walking the registry screens in a browser."""
import pytest

from matrix.auth.models import Role


@pytest.mark.parametrize("url", ["/stores/99999999999999999999", "/stores/?page=99999999999999999999",
                                 "/?page=99999999999999999999", "/accounts/?store=99999999999999999999",
                                 "/accounts/new?store_id=99999999999999999999",
                                 "/prints/99999999999999999999", "/materials/99999999999999999999",
                                 "/today/?store=99999999999999999999", "/plans/brand/99999999999999999999/2026-W48"])
def test_numbers_too_large_for_the_database_answer_404(client, make_user, login, url):
    login(make_user(Role.OPERATOR))
    assert client.get(url).status_code == 404


def test_a_forged_huge_store_id_in_a_form_answers_404(client, make_user, make_store, login, post):
    make_store(code="HZ-001")
    login(make_user(Role.OPERATOR))
    response = post("/communities/new", {"store_id": "99999999999999999999", "name": "群", "kind": "wecom"})
    assert response.status_code == 404
