"""Passwords: long enough, not among the commonest, not the user's own name; on every way to set one."""
import time

import pytest

from matrix.auth.models import Role
from matrix.auth.passwords import check_password
from matrix.auth.services import create_user, update_own_account, update_user
from matrix.errors import DomainError
from conftest import PASSWORD

COMMON = ["password123", "1234567890", "qwertyuiop", "1qaz2wsx3edc", "a123456789", "iloveyou12", "admin12345",
          "p@ssw0rd123", "1q2w3e4r5t", "woaini1314", "5201314520", "Password1!"]


@pytest.mark.parametrize("password", COMMON)
def test_the_commonest_passwords_are_refused(app, password):
    with pytest.raises(DomainError, match="among the most common"):
        check_password(password, username="linxiao")


@pytest.mark.parametrize("password, username, display_name", [
    ("linxiao-2026-pw", "linxiao", ""), ("LinXiao_store_7788", "linxiao", ""), ("xk-9Qm-wang.fang!", "op7", "王芳 wang.fang"),
    ("我是王芳的密码好长啊", "op8", "店长 王芳"),
])
def test_the_users_own_name_is_refused(app, password, username, display_name):
    with pytest.raises(DomainError, match="must not contain the user's name"):
        check_password(password, username=username, display_name=display_name)


@pytest.mark.parametrize("password", [PASSWORD, "velvet-lantern-orbit", "xK9#mPq2vL7t", "门店矩阵·春天的西湖"])
def test_good_passwords_pass(app, password):
    check_password(password, username="linxiao", display_name="运营 林晓")


def test_create_update_and_own_change_all_check(app, make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(DomainError) as refused:
        create_user(username="zhangwei", password="zhangwei2026!", role=Role.OPERATOR, actor=admin)
    assert refused.value.field == "password"
    user = create_user(username="zhangwei", password="velvet-lantern-orbit", role=Role.OPERATOR, actor=admin)
    with pytest.raises(DomainError, match="most common"):
        update_user(user, actor=admin, display_name="", role=Role.OPERATOR, active=True, mobile=None, store_ids=[],
                    password="qwertyuiop123")
    with pytest.raises(DomainError, match="user's name"):
        update_own_account(user, display_name="张伟", locale="zh", current_password="velvet-lantern-orbit",
                           new_password="ZhangWei-is-me-2026")
    assert user.check_password("velvet-lantern-orbit")


def test_a_very_long_password_is_judged_quickly(app):
    started = time.perf_counter()
    check_password("amber-velvet-lantern-orbit-quartz-harbor-meadow-cinder-falcon-tundra-willow-saffron-basalt-"
                   "cobalt-prairie-" * 2, username="linxiao")  # zxcvbn sees the first 72 characters only
    assert time.perf_counter() - started < 0.5
