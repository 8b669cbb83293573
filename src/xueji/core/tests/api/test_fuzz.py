"""The API fuzzer: every operation of the OpenAPI document, driven by schemathesis, as three real
accounts (a school's registrar, a county bureau's approver, and the county's auditor, the only
role that may search the trail) on a small registry (fuzz_world) whose real ids, numbers and
names are fed into the generated requests, and tried alone first (`situations`).

One test per operation, found in the document (nothing is listed by hand): a new endpoint is
fuzzed as soon as it is routed. A test fails on any 5xx, on a response whose status, content
type, headers or body the document does not describe, on a request the document forbids that is
accepted, on a request the document allows that is refused as malformed (422, or a 4xx naming a
query or path parameter; see VALID_BUT_REFUSED for the rules a schema cannot state), and when no
request of the operation got a 2xx. The operations that got a 2xx, and each excluded one with
its reason, are printed at the end of the run (conftest.py).

Each request runs in a savepoint rolled back after it: every request sees the registry as built,
an approval or a withdrawal consumes nothing, and the suite runs alike on SQLite and on
PostgreSQL as the application's role. The seed is fixed (derandomize): a run repeats exactly.
A request the document forbids goes out as one account (it is refused before anyone's rights
are looked at), and an account refused for its role is not asked again for that operation.

To fuzz some operations alone: XUEJI_FUZZ_ONLY='POST /api/students$' (a regular expression of
the operations' labels).
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from xueji.access.services import api_token_create
from xueji.archive.tests import fuzz_objects as archive_fuzz
from xueji.attendance.tests import fuzz_objects as attendance_fuzz
from xueji.federation.tests import fuzz_objects as federation_fuzz
from xueji.identity.tests import fuzz_objects as identity_fuzz
from xueji.testing.database import divisions_ensure
from xueji.welfare.tests import fuzz_objects as welfare_fuzz

from . import fuzz_world

# Examples generated per operation in the fuzzing phase (the coverage phase adds its own
# boundary values first). 12, not 20: the API grew from 56 to 181 operations and the issue gives
# the fuzzer at most 5 minutes per database; with 20 it took 6.5-8 minutes on the shared machine,
# with 12 it takes 3 min 10 s on SQLite and every operation still gets a 2xx. Measured: see the
# README's security section.
MAX_EXAMPLES = 12

# Operations not fuzzed, with the reason (an empty dict: every operation is).
EXCLUDED: dict[str, str] = {
    # The welfare settings of a province or the ministry (issue 23): no fuzzer account holds them.
    **welfare_fuzz.EXCLUDED,
    # The province's dropout-control settings (issue 22): no fuzzer account holds them.
    **attendance_fuzz.EXCLUDED,
    # The class teacher's writes of the growth record (issue 24): no fuzzer account leads a class.
    **archive_fuzz.EXCLUDED,
    # A province's load of the population roll (issue 21): no fuzzer account holds it.
    **identity_fuzz.EXCLUDED,
    # A transfer between provinces is filed on a province's node (issue 25): the fuzzer runs one
    # database for the country.
    **federation_fuzz.EXCLUDED,
    # A reporting round is opened by the ministry or a province (issue 26); the fuzzer's accounts
    # are a school's and a county's. Opening one is tested in xueji.reporting's tests.
    "POST /api/reporting/rounds": "opened by the ministry or a province (report.round_open)",
    # Closed periods and province rules are set by the ministry or a province (issue 19); the
    # fuzzer's accounts read them. Setting them is tested in xueji.changes' API tests.
    **{
        f"POST /api/changes/{path}": "set by the ministry or a province (change.window_manage, "
        "province_rules.manage)"
        for path in (
            "periods",
            "periods/adopt",
            "periods/{period_id}",
            "periods/{period_id}/lift",
            "rules/{province_code}",
        )
    },
    # An account's second factor is the security administrator's (三员分立); the fuzzer's
    # accounts are a school's, a county's and an auditor's. Tested in xueji.accounts' tests.
    **{
        f"{method} /api/accounts/{{user_id}}/second-factor{path}": (
            "the security administrator's (account.second_factor_manage)"
        )
        for method, path in (("GET", ""), ("POST", "/code"), ("POST", "/reset"))
    },
}

# Refusals of a request the document allows that no schema can state: a rule between parameters
# or one that moves with the date. Any other 4xx naming a query or path parameter, for a request
# the document allows, is a document that says less than the code checks.
VALID_BUT_REFUSED = {
    "bad_year": "a school year that has not begun yet",
    "year_out_of_reach": "classes are set up for this school year, the one before or the next",
    "bad_period": "a period that ends before it starts or is longer than three years",
    "bad_date": "a day of statistics after today (or before they begin)",
    "nul_character": "text holding a NUL character, which PostgreSQL cannot store",
}

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
if os.environ.get("XUEJI_FUZZ_ONLY"):
    # To run some operations alone: a regular expression of their labels ("POST /api/students$").
    schema = schema.include(name_regex=os.environ["XUEJI_FUZZ_ONLY"])
# The accounts' tokens are sent by the test; generated credentials would only be replaced.
schema.config.generation.update(with_security_parameters=False)
# A method a path does not take is answered by one piece of code for every path (a JSON 405,
# test_errors_are_json): two methods per path try it, not seven.
schema.config.phases.coverage.unexpected_methods = {"DELETE", "PUT"}


@dataclass
class Tally:
    """What each operation was answered, per account, for the summary and the 2xx rule."""

    statuses: dict[str, Counter[tuple[str, int]]] = field(default_factory=dict)

    def add(self, operation: str, account: str, status: int) -> None:
        self.statuses.setdefault(operation, Counter())[(account, status)] += 1

    def succeeded(self, operation: str) -> bool:
        return any(200 <= status < 300 for _, status in self.statuses.get(operation, ()))


TALLY = Tally()


class Situations:
    """The registry's real values as coherent rows, filled when the world is built."""

    rows: list[dict[str, Any]] = []


@schema.hook
def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
    """Some generated requests take the fields they share with one real situation: path values
    that exist, a pupil's number with that pupil's name; some of those keep nothing else."""
    if not Situations.rows:
        return st.just(case)
    return st.tuples(
        st.sampled_from(["generated", "real", "only real"]), st.sampled_from(Situations.rows)
    ).map(lambda choice: _with_situation(case, *choice))


def _with_situation(case: Any, how: str, row: dict[str, Any]) -> Any:
    if how == "generated":
        return case
    for parameter in case.operation.path_parameters:
        if parameter.name in row:
            case.path_parameters[parameter.name] = row[parameter.name]
    for name in list(case.query or ()):
        if name in row:
            case.query[name] = row[name]
    if isinstance(case.body, dict):
        body = {
            name: row.get(name, value)
            for name, value in case.body.items()
            if how == "real" or name in row
        }
        properties = _body_properties(case)
        body.update({name: row[name] for name in properties if name in row})
        case.body = body
    # Reading the metadata now judges the request again as sent: a real value may make a
    # generated invalid request valid, or the reverse.
    assert case.meta is not None
    return case


def _body_properties(case: Any) -> set[str]:
    media = case.operation.get_body_for_media_type(case.media_type) if case.media_type else None
    return set(_body_shape(media).get("properties", {})) if media is not None else set()


def _body_shape(body: Any) -> dict[str, Any]:
    """A body's object schema: its `$ref` (into the bundled definitions) followed, and of an
    optional body (`anyOf` the object and null) the object."""
    root = body.validation_schema

    def resolved(shape: Any) -> dict[str, Any]:
        while isinstance(shape, dict) and isinstance(shape.get("$ref"), str):
            found: Any = root
            for part in shape["$ref"].lstrip("#/").split("/"):
                found = found[part]
            shape = found
        if isinstance(shape, dict) and "anyOf" in shape:
            objects = [resolved(branch) for branch in shape["anyOf"]]
            return next((found for found in objects if "properties" in found), {})
        return shape if isinstance(shape, dict) else {}

    return resolved(root)


@dataclass
class Accounts:
    tokens: dict[str, str]
    forbidden: set[tuple[str, str]] = field(default_factory=set)


@pytest.fixture(scope="module")
def accounts(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[Any]:
    """The registry, built once for the module in a transaction rolled back at its end; each
    operation's test runs in a savepoint inside it."""
    folder = tmp_path_factory.mktemp("fuzz")
    with (
        django_db_blocker.unblock(),
        override_settings(
            XUEJI_IMPORT_DIR=folder / "imports",
            XUEJI_EXPORT_DIR=folder / "exports",
            XUEJI_CHANGE_CLOSED_PERIODS={},
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        # A module fixture is set up before the tests' own (autouse) fixtures: it puts back the
        # divisions a transactional test before it may have flushed (PostgreSQL's concurrency
        # tests run only there, which is why only the PostgreSQL suite lost them).
        divisions_ensure()
        world = fuzz_world.build()
        Situations.rows = world.rows
        tokens = {
            name: api_token_create(actor=None, user=user, name="fuzz")[1]
            for name, user in (
                ("registrar", world.registrar),
                ("county", world.county),
                ("auditor", world.auditor),
            )
        }
        # Django's handler closes the connection after a request; here the requests share the
        # test's connection and its transaction (as Django's test client does).
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        # Thousands of refusals are expected: only server errors are logged.
        requests_log = logging.getLogger("django.request")
        level = requests_log.level
        requests_log.setLevel(logging.ERROR)
        try:
            yield Accounts(tokens=tokens)
        finally:
            requests_log.setLevel(level)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            Situations.rows = []
            transaction.set_rollback(True)


@pytest.fixture
def exceptions() -> Iterator[list[str]]:
    """The tracebacks of the exceptions the views raised (a 5xx names its cause)."""
    raised: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        raised.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    yield raised
    got_request_exception.disconnect(record)


def valid_parameters_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the document allows is not refused as malformed (422 `invalid_request`), nor
    for one of its query or path parameters, unless by a rule of VALID_BUT_REFUSED."""
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return None
    if not 400 <= response.status_code < 500 or response.status_code in (401, 403, 429):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("code") in VALID_BUT_REFUSED:
        return None
    fields = body.get("fields") or {}
    parameters = {p.name for p in case.operation.path_parameters}
    parameters |= {p.name for p in case.operation.query}
    named = {
        name
        for name, errors in fields.items()
        if name in parameters and any(e.get("code") not in VALID_BUT_REFUSED for e in errors)
    }
    if body.get("code") != "invalid_request" and not named:
        return None
    named = named or set(fields)
    raise Failure(
        operation=case.operation.label,
        title="A request the document allows is refused",
        message=f"{response.status_code} {body.get('code')}: {sorted(named)}",
    )


def schema_violations_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the document forbids is refused (schemathesis' negative_data_rejection), but
    for a form's body: a form travels as text, so a body made invalid (a number or an object
    where a file or a string is due) arrives as valid text, and is rightly read as such."""
    meta = case.meta
    if meta is not None and (case.media_type or "").startswith("multipart/"):
        negative = {
            location
            for location, info in meta.components.items()
            if info.mode == GenerationMode.NEGATIVE
        }
        if negative <= {ParameterLocation.BODY}:
            return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    schema_violations_refused,
    valid_parameters_accepted,
]


def _send(case: Any, accounts: Accounts, exceptions: list[str]) -> None:
    """The request as each account, in a savepoint rolled back after it, judged by CHECKS. An
    account whose role may not perform the operation's action (403 `forbidden` naming the
    action, whatever the request) is not asked again for it."""
    label = case.operation.label
    eligible = [
        (account, token)
        for account, token in accounts.tokens.items()
        if (label, account) not in accounts.forbidden
    ]
    # A request the document forbids, or with a method the path does not take, is refused
    # before anyone's rights are looked at: one account is enough to see how.
    meta = case.meta
    if case.method.upper() != case.operation.method.upper() or (
        meta is not None and meta.generation.mode == GenerationMode.NEGATIVE
    ):
        eligible = eligible[:1]
    for account, token in eligible:
        exceptions.clear()
        with transaction.atomic():
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            transaction.set_rollback(True)
        TALLY.add(label, account, response.status_code)
        if response.status_code == 403 and _refused_for_the_role(response):
            accounts.forbidden.add((label, account))
        if response.status_code >= 500 and exceptions:
            pytest.fail(f"{label} as {account}: {response.status_code}\n{exceptions[-1]}")
        case.validate_response(response, checks=CHECKS)


def _refused_for_the_role(response: Any) -> bool:
    """The refusal of access.scope.require: the role may not perform the action (whatever the
    request), as opposed to a refusal about the thing asked for (not the filing school …)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    details = body.get("details") if isinstance(body, dict) else None
    return body.get("code") == "forbidden" and isinstance(details, dict) and "action" in details


def _situated(operation: Any) -> list[Any]:
    """The operation's requests made of real situations only: each row that gives every path
    parameter, with the query and body fields it has (a body, JSON or a form, only when it
    gives every required field)."""
    paths = {p.name for p in operation.path_parameters}
    queries = {p.name for p in operation.query}
    body = operation.body[0] if operation.body else None
    media = body.media_type if body is not None else None
    shape = _body_shape(body) if body is not None else {}
    properties = set(shape.get("properties", {}))
    required = set(shape.get("required", []))
    cases = []
    for row in Situations.rows:
        if not paths <= set(row) or (body is not None and not required <= set(row)):
            continue
        if not (set(row) & (paths | queries | properties)) and (paths or queries or body):
            continue
        given: dict[str, Any] = {
            "path_parameters": {name: row[name] for name in paths},
            "query": {name: row[name] for name in queries if name in row},
        }
        if properties:
            given["body"] = {name: row[name] for name in properties if name in row}
            given["media_type"] = media
        cases.append(operation.Case(**given))
    if not cases and not paths and not body:
        cases.append(operation.Case())
    return cases


@pytest.fixture
def situations(request: Any, db: Any, accounts: Accounts, exceptions: list[str]) -> None:
    """Before the fuzzing, the operation's requests made of real situations, so that what
    should answer 2xx is tried whatever the generated requests hit."""
    operation = schema.find_operation_by_label(request.node.operation_label)
    if operation is None or operation.label in EXCLUDED:
        return
    for case in _situated(operation):
        _send(case, accounts, exceptions)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation(case: Any, accounts: Accounts, exceptions: list[str], situations: None) -> None:
    if case.operation.label in EXCLUDED:
        pytest.skip(f"excluded: {EXCLUDED[case.operation.label]}")
    _send(case, accounts, exceptions)
