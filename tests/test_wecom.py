"""The WeCom robot client: the SSRF guard, the answers it understands, and the stand-in it is tested against."""
import logging

import pytest

from matrix.notifications.wecom import RefusedRobotUrl, RobotClient, interpret, is_robot_url
from robot_server import Busy, Error, Gone, HttpError, Ok, RateLimited, Slow, webhook

MESSAGE = {"msgtype": "markdown", "markdown": {"content": "### 新线索"}}


@pytest.mark.parametrize("url", [
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
    "https://qyapi.weixin.qq.com:443/cgi-bin/webhook/send?key=abcd1234",
])
def test_real_robot_urls_are_accepted(url):
    assert is_robot_url(url)


@pytest.mark.parametrize("url", [
    None, "", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234",
    "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=abcd1234",
    "https://evil.example/cgi-bin/webhook/send?key=abcd1234",
    "https://qyapi.weixin.qq.com@127.0.0.1/cgi-bin/webhook/send?key=abcd1234",
    "https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234",
    "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=abcd1234",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/upload_media?key=abcd1234",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234&debug=1",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234#x",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ab%0d%0aHost:x",
    "https://127.0.0.1/cgi-bin/webhook/send?key=abcd1234",
])
def test_anything_else_is_refused(url):
    assert not is_robot_url(url)


def test_the_client_refuses_before_opening_a_socket(robot):
    client = RobotClient(base_url_override=robot.base_url)
    with pytest.raises(RefusedRobotUrl):
        client.send(f"{robot.base_url}/cgi-bin/webhook/send?key=abcd1234", MESSAGE)
    assert robot.requests == 0


def test_without_an_override_it_would_call_the_wecom_host_only(monkeypatch):
    calls = []

    class Recorder:
        def __init__(self, host, port, timeout):
            calls.append((host, port))
            raise ConnectionRefusedError

    monkeypatch.setattr("http.client.HTTPSConnection", Recorder)
    result = RobotClient().send(webhook("abcd1234"), MESSAGE)
    assert calls == [("qyapi.weixin.qq.com", None)] and not result.ok and not result.permanent


def test_the_override_keeps_path_and_key(robot):
    result = RobotClient(base_url_override=robot.base_url).send(webhook("KEY-A_1"), MESSAGE)
    assert result.ok
    assert robot.delivered == [("KEY-A_1", MESSAGE)]


def test_from_config_reads_the_settings(app, robot):
    client = RobotClient.from_config(app.config)
    assert client.base.port == robot.port and client.timeout == app.config["WECOM_TIMEOUT_S"]
    with pytest.raises(ValueError):
        RobotClient(base_url_override="ftp://127.0.0.1:21")


@pytest.mark.parametrize("answer, ok, permanent, wait", [
    (Ok(), True, False, 0), (RateLimited(), False, False, 60), (Busy(), False, False, 0),
    (Error(45033, "api concurrent out of limit"), False, False, 0), (HttpError(500), False, False, 0),
    (HttpError(503), False, False, 0), (HttpError(429), False, False, 60),
    (Gone(), False, True, 0), (Error(40008, "invalid message type"), False, True, 0),
    (Error(44004, "empty content"), False, True, 0), (Error(40058, "too long"), False, True, 0),
    (HttpError(404), False, True, 0),
])
def test_answers_map_to_sent_retry_or_permanent(robot, answer, ok, permanent, wait):
    robot.answer(answer)
    result = RobotClient(base_url_override=robot.base_url).send(webhook("abcd1234"), MESSAGE)
    assert (result.ok, result.permanent, result.min_wait_s) == (ok, permanent, wait)
    if not ok:
        assert result.error


def test_unreadable_answers_are_retried():
    assert not interpret(200, b"<html>").permanent
    assert not interpret(200, b'{"errmsg": "no code"}').permanent


def test_a_slow_robot_times_out_and_is_retried(robot):
    robot.answer(Slow(0.4))
    result = RobotClient(base_url_override=robot.base_url, timeout=0.1).send(webhook("abcd1234"), MESSAGE)
    assert (result.ok, result.permanent, result.error) == (False, False, "timeout")


def test_a_robot_that_is_down_refuses_connections(robot):
    client = RobotClient(base_url_override=robot.base_url)
    robot.stop()
    result = client.send(webhook("abcd1234"), MESSAGE)
    assert (result.ok, result.permanent, result.error) == (False, False, "connection refused")
    robot.start()  # back on the same port
    assert client.send(webhook("abcd1234"), MESSAGE).ok


def test_the_stand_in_checks_messages_like_the_real_robot(robot):
    client = RobotClient(base_url_override=robot.base_url)
    assert "40008" in client.send(webhook("abcd1234"), {"msgtype": "video", "video": {}}).error
    assert "44004" in client.send(webhook("abcd1234"), {"msgtype": "text", "text": {"content": " "}}).error
    robot.remove("abcd1234")
    assert "93000" in client.send(webhook("abcd1234"), MESSAGE).error
    assert robot.delivered == []


def test_the_key_is_never_logged(robot, caplog, monkeypatch):
    # Alembic's fileConfig (the migration tests) disables loggers that exist when it runs.
    monkeypatch.setattr(logging.getLogger("matrix.notifications.wecom"), "disabled", False)
    caplog.set_level(logging.DEBUG)
    client = RobotClient(base_url_override=robot.base_url)
    robot.answer(Ok(), Gone())
    client.send(webhook("SECRETKEY12345678"), MESSAGE)
    client.send(webhook("SECRETKEY12345678"), MESSAGE)
    robot.stop()
    client.send(webhook("SECRETKEY12345678"), MESSAGE)
    assert "SECRETKEY1234" not in caplog.text
    assert "****5678" in caplog.text
