"""A report as CSV, streamed: a header row, then one line per row as the server-side cursor yields them."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

from asgiref.sync import sync_to_async

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from reports.selectors import ROW_KEYS, ReportQuery, report_rows_iter


class _Line:
    def write(self, value: str) -> str:
        return value


_writer = csv.writer(_Line())


def csv_line(values: list[Any]) -> str:
    return _writer.writerow(["" if v is None else v for v in values])


def report_filename(query: ReportQuery) -> str:
    return f"report-{query.group_by}-{query.interval}-{query.date_from}-{query.date_to}.csv"


class ReportCsv:
    """The CSV of ``query``, iterable both ways. The rows are read after the view has returned (its
    transaction is over), so iteration opens its own transaction as the tenant and keeps the cursor in it."""

    def __init__(self, *, tenant: Tenant, query: ReportQuery, chunk: int = 2000):
        self.tenant = tenant
        self.query = query
        self.chunk = chunk
        # The chosen columns only, so a page's export holds exactly what its table shows.
        self.keys = [*ROW_KEYS[:4], *query.columns]
        self._stack: ExitStack | None = None
        self._rows: Iterator[dict[str, Any]] | None = None

    def __iter__(self) -> Iterator[str]:
        with tenant_context(self.tenant):
            yield csv_line(self.keys)
            for row in report_rows_iter(query=self.query, chunk=self.chunk):
                yield csv_line([row[k] for k in self.keys])

    # Under ASGI each chunk is fetched by the request's own worker thread (thread-sensitive), which keeps the
    # database connection, its transaction and the named cursor between chunks, so memory stays flat: a
    # plain generator would be read to the end into a list first.
    def _open(self) -> None:
        self._stack = ExitStack()
        self._stack.enter_context(tenant_context(self.tenant))
        self._rows = report_rows_iter(query=self.query, chunk=self.chunk)

    def _next_chunk(self) -> str:
        lines = []
        for row in self._rows:
            lines.append(csv_line([row[k] for k in self.keys]))
            if len(lines) >= self.chunk:
                break
        return "".join(lines)

    def _close(self) -> None:
        if self._rows is not None:
            self._rows.close()
        if self._stack is not None:
            self._stack.close()

    async def __aiter__(self) -> AsyncIterator[str]:
        await sync_to_async(self._open)()
        try:
            yield csv_line(self.keys)
            while True:
                text = await sync_to_async(self._next_chunk)()
                if not text:
                    return
                yield text
        finally:
            await sync_to_async(self._close)()
