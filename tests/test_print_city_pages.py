"""A city's printable week comes PRINT_STORES stores a document, with links to the next and previous ones."""
from fixtures_plans import WEEK
from flask import url_for

from matrix.auth.models import Role
from matrix.plans import print_views


def test_a_city_prints_in_documents_of_a_few_stores(client, login, make_user, make_store, monkeypatch):
    stores = [make_store(code=f"P-{n}") for n in range(5)]
    monkeypatch.setattr(print_views, "PRINT_STORES", 2)
    login(make_user(Role.OPERATOR))
    city = stores[0].city_code
    html = client.get(url_for("plans.print_city", city=city, week=WEEK)).text
    assert html.count('class="sheet"') == 2 and "P-0" in html and "P-2" not in html
    assert "Stores 1 to 2 of 5." in html and "page=2" in html and "Previous stores" not in html
    last = client.get(url_for("plans.print_city", city=city, week=WEEK, page=3)).text
    assert last.count('class="sheet"') == 1 and "P-4" in last and "page=2" in last and "Next stores" not in last
    one = client.get(url_for("plans.print_store", store_id=stores[0].id, week=WEEK)).text
    assert "Stores 1 to" not in one
