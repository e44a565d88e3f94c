"""Mail is sent by a Celery task after commit. Here the commit is simulated (Django's captured on-commit
callbacks) and the task runs eagerly in the test process, against a real SMTP server where a test says so."""

from __future__ import annotations

import pytest

from helpdesk.celery import app


@pytest.fixture(autouse=True)
def eager_tasks():
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
