"""Rules run in Celery workers after commit. Here the commit is simulated (Django's captured on-commit
callbacks) and tasks run eagerly in the test process, on the real database and as the application role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from helpdesk.celery import app


@pytest.fixture
def worker(django_capture_on_commit_callbacks) -> Iterator[Callable[[], AbstractContextManager]]:
    """``with worker(): ...`` runs what the block queues for after commit, and the tasks it sends, at its end."""
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield lambda: django_capture_on_commit_callbacks(execute=True)
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
