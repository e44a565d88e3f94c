"""The foundation scenarios against a running server: ticket create over the API, and the ticket list of one
department (API and web inbox), on its first page and on deep pages.

Deep pages are reached the way a client reaches them, by cursor: the first pages are walked by following
``next`` links, and cursors for rows near the end of the department are built in the pagination's own format
(checked against a real ``next`` cursor first), so any depth is measured without walking thousands of pages.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.common import pg
from bench.common.http import Client, Request, run_load
from bench.common.machine import OtherCpu, wait_until_quiet
from bench.common.stats import Summary, summarize

API_LIST = "/api/v1/tickets/"
INBOX = "/"
PAGE_SIZE = 50


@dataclass
class Target:
    port: int
    dbname: str
    tenant_id: int
    department_id: int
    api_key: str
    login_email: str
    login_password: str
    host: str = "127.0.0.1"
    session_cookie: str | None = None
    deep: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # One port per server process: each new connection goes to the next, as a round-robin balancer sends it.
    ports: list[int] = field(default_factory=list)
    _turn: itertools.count = field(default_factory=itertools.count)

    def _next_port(self) -> int:
        return self.ports[next(self._turn) % len(self.ports)] if self.ports else self.port

    def api_client(self) -> Client:
        return Client(self.host, self._next_port(), headers={"Authorization": f"Bearer {self.api_key}",
                                                             "Accept": "application/json"})

    def web_client(self) -> Client:
        return Client(self.host, self._next_port(), headers={"Cookie": self.session_cookie or ""})


@dataclass
class Plan:
    """How many requests each scenario sends. ``quick`` is for trying the bench out, not for the record."""

    warmup: int = 200
    create: int = 1000
    list_requests: int = 1000
    inbox_requests: int = 500
    walk_pages: int = 300
    deep_cursors: int = 50
    # 1 and 2: the latency of a request when each server process has at most one; 4: requests queue, so the
    # figures show capacity (req/s) and waiting time rather than the latency the goal is about.
    concurrencies: tuple[int, ...] = (1, 2, 4)
    quiet_wait: float = 120.0  # seconds to wait, before each scenario, for other work on the machine to end

    @classmethod
    def quick(cls) -> Plan:
        return cls(warmup=30, create=200, list_requests=200, inbox_requests=100, walk_pages=30, deep_cursors=10,
                   quiet_wait=10.0)


# --- cursors ------------------------------------------------------------------------------------------------

def cursor_decode(cursor: str) -> dict:
    padded = cursor + "=" * (-len(cursor) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def cursor_encode(values: list) -> str:
    """As helpdesk.pagination encodes a forward cursor: the last row's sort values."""
    raw = json.dumps({"v": values, "b": False}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _same_position(a: list, b: list) -> bool:
    def norm(value):
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                return value
        return value

    return [norm(v) for v in a] == [norm(v) for v in b]


def cursor_from_link(link: str | None) -> str | None:
    if not link:
        return None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link.replace("&amp;", "&")).query)
    values = query.get("cursor")
    return values[0] if values else None


def department_positions(target: Target, offsets: list[int]) -> list[list]:
    """(created_at, id) of the rows at these offsets of the department's newest-first order, read as the
    application role with the tenant set, like the server reads them."""
    out = []
    with pg.connect(role=pg.APP_ROLE, dbname=target.dbname, autocommit=False) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(target.tenant_id)])
        for offset in offsets:
            row = conn.execute(
                "SELECT created_at, id FROM tickets_ticket WHERE tenant_id = %s AND department_id = %s "
                "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                [target.tenant_id, target.department_id, offset],
            ).fetchone()
            out.append([row[0].isoformat(), row[1]])
        conn.rollback()
    return out


def department_size(target: Target) -> int:
    with pg.connect(role=pg.APP_ROLE, dbname=target.dbname, autocommit=False) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(target.tenant_id)])
        count = conn.execute(
            "SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s AND department_id = %s",
            [target.tenant_id, target.department_id],
        ).fetchone()[0]
        conn.rollback()
    return count


def deep_cursors(target: Target, *, real_next: str, how_many: int) -> tuple[list[str], int, int]:
    """Cursors whose page starts in the last tenth of the department, checked against a real next cursor."""
    shape = cursor_decode(real_next)
    page_one_end = department_positions(target, [PAGE_SIZE - 1])[0]
    if len(shape.get("v", [])) != 2 or not _same_position(shape["v"], page_one_end):
        raise RuntimeError(f"the list's cursor is not (created_at, id) newest first: {shape!r}")
    size = department_size(target)
    first = int(size * 0.9)
    last = max(first, size - PAGE_SIZE - 1)
    offsets = sorted({first + (last - first) * i // max(1, how_many - 1) for i in range(how_many)})
    return [cursor_encode(values) for values in department_positions(target, offsets)], first, size


def deep_cursors_cached(target: Target) -> str:
    """The deepest cursor of the last run: the page the plans are shown for."""
    return target.deep[-1]


# --- scenarios ----------------------------------------------------------------------------------------------

def create_request(index: int, target: Target, run_id: str) -> Request:
    # Half the customers are new, half return with the email of an earlier ticket in this run.
    customer = index if index % 2 == 0 else index - 1
    body = {
        "subject": f"Order {100000 + index} has not arrived",
        "body": "Hello, my parcel was due last week and the tracking has not moved since. Can you check?",
        "channel": "api", "priority": "medium", "department": target.department_id,
        "contact": {"name": f"Bench Customer {customer}", "email": f"bench-{run_id}-{customer}@example.net"},
    }
    if index % 3 == 0:
        body["tags"] = ["shipping-delay"]
    return Request("POST", API_LIST, body=json.dumps(body).encode(),
                   headers={"Content-Type": "application/json"}, expect=201)


def api_list_path(target: Target, cursor: str | None = None) -> str:
    query = {"department": target.department_id}
    if cursor:
        query["cursor"] = cursor
    return f"{API_LIST}?{urllib.parse.urlencode(query)}"


def inbox_path(target: Target, cursor: str | None = None) -> str:
    query = {"department": target.department_id}
    if cursor:
        query["cursor"] = cursor
    return f"{INBOX}?{urllib.parse.urlencode(query)}"


NEXT_LINK = re.compile(r'<a[^>]*rel="next"[^>]*href="([^"]+)"|<a[^>]*href="([^"]+)"[^>]*rel="next"')


def inbox_next(html: str) -> str | None:
    match = NEXT_LINK.search(html)
    return cursor_from_link(match.group(1) or match.group(2)) if match else None


def login(target: Target) -> str | None:
    """Sign in through the login form; the session cookie, or None when there is no login page."""
    client = Client(target.host, target.port)
    try:
        page = client.get("/login/")
        if page.status != 200:
            return None
        csrf_cookie = _cookie(page.headers, "csrftoken")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if not csrf_cookie or not token:
            return None
        form = urllib.parse.urlencode({"username": target.login_email, "password": target.login_password,
                                       "csrfmiddlewaretoken": token.group(1).decode()}).encode()
        answer = client.send("POST", "/login/", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"http://{target.host}:{target.port}/login/",
        })
        session = _cookie(answer.headers, "sessionid")
        return f"sessionid={session}; csrftoken={csrf_cookie}" if answer.status == 302 and session else None
    finally:
        client.close()


def _cookie(headers, name: str) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        first = value.split(";", 1)[0]
        key, _, cookie = first.partition("=")
        if key.strip() == name:
            return cookie
    return None


def walk(name: str, client: Client, first_path: str, pages: int, *, next_of) -> tuple[Summary, str | None]:
    """Follow next links from the first page, one request at a time; returns the latencies and the last cursor."""
    latencies = []
    path, cursor = first_path, None
    started = time.perf_counter()
    for _ in range(pages):
        t0 = time.perf_counter()
        response = client.get(path)
        latencies.append(time.perf_counter() - t0)
        if response.status != 200:
            raise RuntimeError(f"GET {path} -> {response.status}: {response.body[:300]!r}")
        cursor = next_of(response)
        if cursor is None:
            break
        path = path.split("?")[0] + "?" + _with_cursor(path, cursor)
    return summarize(name, latencies, errors=0, concurrency=1, seconds=time.perf_counter() - started), cursor


def _with_cursor(path: str, cursor: str) -> str:
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
    query["cursor"] = cursor
    return urllib.parse.urlencode(query)


def _api_next(response) -> str | None:
    return cursor_from_link(response.json().get("next"))


def _inbox_next(response) -> str | None:
    return inbox_next(response.body.decode())


def run_all(target: Target, plan: Plan, *, label: str, run_id: str) -> list[Summary]:
    results: list[Summary] = []
    others = OtherCpu(target.dbname)

    def record(scenario) -> Summary:
        """Run one scenario (a callable returning its Summary), noting what else used the CPU meanwhile."""
        # Between scenarios the server is idle: anything busy now is someone else. Give it a moment to pass.
        busy = wait_until_quiet(timeout=plan.quiet_wait)
        if busy > 0.15:
            print(f"  (the machine is {busy:.0%} busy with other work; measuring anyway)", flush=True)
        others.start()
        summary = scenario()
        summary = dataclasses.replace(summary, other_cpu=round(others.share(), 3))
        results.append(summary)
        print("  " + summary.line(), flush=True)
        return summary

    api = target.api_client()
    try:
        first = api.get(api_list_path(target))
        if first.status != 200:
            raise RuntimeError(f"GET {api_list_path(target)} -> {first.status}: {first.body[:300]!r}")
        real_next = cursor_from_link(first.json().get("next"))
    finally:
        api.close()
    cursors, deep_from, size = deep_cursors(target, real_next=real_next, how_many=plan.deep_cursors)
    target.deep = cursors
    print(f"  department {target.department_id}: {size:,} tickets ({size // PAGE_SIZE:,} pages); deep pages start "
          f"at row {deep_from:,}", flush=True)

    # Warm-up: every code path once per server process, then some more.
    run_load(f"{label} warm-up", make_client=target.api_client, concurrency=4, requests=plan.warmup,
             request_for=lambda i: Request("GET", api_list_path(target, cursors[i % len(cursors)] if i % 2 else None)))
    run_load(f"{label} warm-up create", make_client=target.api_client, concurrency=2, requests=plan.warmup // 4,
             request_for=lambda i: create_request(i, target, f"{run_id}w"))

    def load(name: str, make_client, requests: int, concurrency: int, request_for) -> Summary:
        return record(lambda: run_load(f"{label} {name}", make_client=make_client, concurrency=concurrency,
                                       requests=requests, request_for=request_for))

    def deep(path_of):
        return lambda i: Request("GET", path_of(target, cursors[i % len(cursors)]))

    for c in plan.concurrencies:
        load("API list, first page", target.api_client, plan.list_requests, c,
             lambda i: Request("GET", api_list_path(target)))
        load("API list, deep pages", target.api_client, plan.list_requests, c, deep(api_list_path))
    api = target.api_client()
    try:
        record(lambda: walk(f"{label} API list, walk {plan.walk_pages} pages", api, api_list_path(target),
                            plan.walk_pages, next_of=_api_next)[0])
    finally:
        api.close()

    if target.session_cookie:
        web = target.web_client()
        try:
            first_page = web.get(inbox_path(target))
            if first_page.status != 200 or inbox_next(first_page.body.decode()) is None:
                target.notes.append(f"inbox first page answered {first_page.status} without a next link")
            run_load(f"{label} inbox warm-up", make_client=target.web_client, concurrency=4, requests=plan.warmup,
                     request_for=lambda i: Request("GET", inbox_path(target, cursors[i % len(cursors)] if i % 2
                                                                     else None)))
            for c in plan.concurrencies:
                load("inbox, first page", target.web_client, plan.inbox_requests, c,
                     lambda i: Request("GET", inbox_path(target)))
                load("inbox, deep pages", target.web_client, plan.inbox_requests, c, deep(inbox_path))
            record(lambda: walk(f"{label} inbox, walk {plan.walk_pages} pages", web, inbox_path(target),
                                plan.walk_pages, next_of=_inbox_next)[0])
        finally:
            web.close()

    # Creates last: they add tickets at the top of the department, which the list figures should not include.
    for c in plan.concurrencies:
        load("API create", target.api_client, plan.create, c,
             lambda i, c=c: create_request(i, target, f"{run_id}c{c}"))
    return results
