"""Count the SQL statements a block of code sends: for tests that keep a page's queries fixed.

    with counted_queries() as statements:
        client.get("/stores/")
    assert len(statements) == 8, statements
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from matrix.extensions import db


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """The statements sent on the app's engine inside the block, in order."""
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def page_queries(client, url: str) -> list[str]:
    """The statements one GET of `url` sends (it must answer 200), from a fresh start as a real request has."""
    # The test client shares the test's session: what a builder loaded would otherwise skip a query.
    db.session.expire_all()
    with counted_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements
