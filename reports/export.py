"""A report as CSV, streamed: PostgreSQL's COPY writes the rows (header first) and they are passed on as they
arrive, so memory stays flat however long the report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

from asgiref.sync import sync_to_async
from django.db import connection

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from reports.facts import jit_off
from reports.selectors import ReportQuery, report_csv_sql

CHUNK_BYTES = 64 * 1024


def report_filename(query: ReportQuery) -> str:
    return f"report-{query.group_by}-{query.interval}-{query.date_from}-{query.date_to}.csv"


class ReportCsv:
    """The CSV of ``query``, iterable both ways. It is read after the view has returned (its transaction is
    over), so iteration opens its own transaction as the tenant and keeps the COPY in it."""

    def __init__(self, *, tenant: Tenant, query: ReportQuery):
        self.tenant = tenant
        self.query = query
        self._stack: ExitStack | None = None
        self._blocks: Iterator | None = None

    def _start(self, stack: ExitStack) -> Iterator:
        stack.enter_context(tenant_context(self.tenant))
        cursor = stack.enter_context(connection.cursor())
        jit_off(cursor)
        copy = stack.enter_context(cursor.cursor.copy(report_csv_sql(query=self.query)))
        return iter(copy)

    def __iter__(self) -> Iterator[bytes]:
        with ExitStack() as stack:
            for block in self._start(stack):
                yield bytes(block)

    # Under ASGI each chunk is read by the request's own worker thread (thread-sensitive), which keeps the
    # database connection, its transaction and the COPY between chunks: a plain generator would instead be
    # read to the end into a list first.
    def _open(self) -> None:
        self._stack = ExitStack()
        self._blocks = self._start(self._stack)

    def _next_chunk(self) -> bytes:
        parts, size = [], 0
        for block in self._blocks:
            parts.append(bytes(block))
            size += len(block)
            if size >= CHUNK_BYTES:
                break
        return b"".join(parts)

    def _close(self) -> None:
        if self._stack is not None:
            self._stack.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        await sync_to_async(self._open)()
        try:
            while True:
                data = await sync_to_async(self._next_chunk)()
                if not data:
                    return
                yield data
        finally:
            await sync_to_async(self._close)()
