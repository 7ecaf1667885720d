"""Issue 5, "Done when": with the broker stopped, the event is delivered after it comes back.

A private `redis-server` on a free port is the broker of this process and of a real
`celery worker` process started here; it is down when the event is published. PostgreSQL and
Redis only (the worker needs a database it can share).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from compliance import events
from compliance.models import OutboxEvent, WebhookDelivery
from compliance.tasks import redispatch_events, webhooks_redeliver
from tests.compliance.test_webhooks import TX_PAYLOAD, Receiver, subscribe
from tests.conftest import REPO, _database_url_of_test_db, wait_for

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
WORKER_LOG = REPO / "var" / "test-webhook-worker.log"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def private_broker(monkeypatch):
    """This process publishes to redis://127.0.0.1:<port>/0, where nothing listens yet.
    Answers (start_broker, start_worker); what they start is stopped at teardown."""
    from compliance.celery import app

    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def use_pools_of(broker_url):
        app.conf.broker_url = broker_url
        app._pool = None  # kombu keeps a pool per broker URL; drop the app's handles to the old one
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    use_pools_of(url)
    started: list[subprocess.Popen] = []
    logs = []

    def start_broker():
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        assert wait_for(lambda: _answers(port), timeout=10), "redis-server did not start"

    def start_worker():
        env = {**os.environ, "DATABASE_URL": _database_url_of_test_db(), "REDIS_URL": url, "DEBUG": "1"}
        log = open(WORKER_LOG, "w")  # noqa: SIM115  (the worker writes it until teardown)
        logs.append(log)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.support.worker_app",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"webhooks-{os.getpid()}@%h",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        ready = wait_for(lambda: proc.poll() is not None or " ready." in WORKER_LOG.read_text(), timeout=60)
        if proc.poll() is not None or not ready:
            pytest.fail(f"Celery worker did not start:\n{WORKER_LOG.read_text()[-3000:]}")

    yield start_broker, start_worker
    for proc in reversed(started):
        _stop(proc)
    for log in logs:
        log.close()
    use_pools_of(previous)


def test_an_event_published_while_the_broker_is_down_is_delivered_once_after_it_is_back(private_broker):
    start_broker, start_worker = private_broker
    with Receiver() as receiver:
        subscribe(receiver.url)

        # The broker is down: the write commits, the after-commit dispatch cannot be enqueued.
        with transaction.atomic():
            event = events.publish("transaction.status_changed", TX_PAYLOAD)
        assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is None
        assert not WebhookDelivery.objects.exists()

        start_broker()
        start_worker()
        # Beat's sweep, once the after-commit grace has passed: it enqueues the dispatch, the
        # worker runs the webhook handler, which enqueues the send, which the worker makes.
        with time_machine.travel(timezone.now() + timedelta(seconds=61)):
            assert redispatch_events.apply().get() == 1
        assert wait_for(lambda: receiver.count >= 1, timeout=20), WORKER_LOG.read_text()[-3000:]
        assert wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 1, timeout=10)
        # Later sweeps find nothing left to send: exactly one delivery reached the receiver.
        with time_machine.travel(timezone.now() + timedelta(minutes=10)):
            assert redispatch_events.apply().get() == 0
            assert webhooks_redeliver.apply().get() == 0
        assert not wait_for(lambda: receiver.count > 1, timeout=1)
        request = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    assert request["headers"]["X-Webhook-Id"] == str(delivery.pk)
    assert delivery.attempts == 1
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None
