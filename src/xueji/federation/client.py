"""A provincial node's client of the hub, and the national interface it answers
(`HubNationalIndex`, selected by XUEJI_NATIONAL_INDEX, which XUEJI_NODE=province:NN sets).

The node answers what its own database knows first (its province's records, names compared where
the record is), and asks the hub, signed with its credential and with a timeout, for the rest of
the country. A reservation the hub cannot answer becomes a pending one (registration never stops
because the hub is down), completed by `pending_retry`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import ServiceError
from xueji.federation.messages import message_send
from xueji.federation.models import PendingReservation, PendingState, Tombstone
from xueji.federation.nodes import HUB, this_node
from xueji.federation.signing import signed_headers
from xueji.students.national import (
    HELD,
    PENDING,
    RESERVED,
    LocalNationalIndex,
    MatchKeys,
    NationalHolder,
    Reservation,
    ReservationRequest,
    match_keys_index,
)

log = logging.getLogger(__name__)


class HubUnreachable(Exception):
    """No answer from the hub in time (down, network, timeout, 5xx)."""


class HubRefused(Exception):
    """The hub refused the request itself (credential, bad request): a configuration error."""


_transport: httpx.BaseTransport | None = None


@contextmanager
def hub_transport(transport: httpx.BaseTransport | None) -> Iterator[None]:
    """Send the hub's requests through `transport` (tests: the hub's views in this process)."""
    global _transport
    before, _transport = _transport, transport
    try:
        yield
    finally:
        _transport = before


class HubClient:
    def __init__(self) -> None:
        self.base_url = str(getattr(settings, "XUEJI_HUB_URL", "")).rstrip("/")
        self.secret = str(getattr(settings, "XUEJI_NODE_SECRET", ""))
        self.timeout = float(getattr(settings, "XUEJI_HUB_TIMEOUT", 3.0))
        self.province = this_node().province

    def post(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        full_path = f"/hub/v1/{path}/"
        body = json.dumps(data, separators=(",", ":")).encode()
        headers = signed_headers(
            self.province, self.secret, method="POST", path=full_path, body=body
        )
        headers["Content-Type"] = "application/json"
        try:
            with httpx.Client(
                base_url=self.base_url or "http://hub.invalid",
                timeout=self.timeout,
                transport=_transport,
            ) as client:
                response = client.post(full_path, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise HubUnreachable(f"{type(error).__name__}: {error}"[:200]) from error
        if response.status_code >= 500:
            raise HubUnreachable(f"hub answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError as error:
            raise HubUnreachable("hub answered no JSON") from error
        if response.status_code in (400, 401, 403, 404, 405):
            raise HubRefused(f"{response.status_code} {answer}"[:200])
        return response.status_code, answer


def _holder(data: dict[str, Any] | None) -> NationalHolder | None:
    if not data:
        return None
    return NationalHolder(
        student_id=data["record"],
        province_code=data["province"],
        school_name=data.get("school_name", ""),
        number_masked=data.get("number_masked", ""),
    )


class HubUnavailable(ServiceError):
    status = 503


def hub_reserve_now(request: ReservationRequest) -> Reservation:
    """Ask the hub to reserve; raises HubUnreachable. On success the confirmation is written to
    the outbox in the caller's transaction: it reaches the hub only if the registration commits."""
    status, answer = HubClient().post("reserve", request.as_json())
    if status == 409 or answer.get("outcome") == HELD:
        return Reservation(HELD, _holder(answer.get("holder")))
    message_send(
        topic="index.confirm",
        payload={"record": request.record},
        destination=HUB,
        stream=f"record:{request.record}",
    )
    return Reservation(RESERVED)


class HubNationalIndex(LocalNationalIndex):
    """The national interface of a provincial node: this database, then the hub."""

    def _ask_holder(self, entries: list[tuple[str, str]]) -> NationalHolder | None:
        try:
            _status, answer = HubClient().post("holder", {"entries": [list(e) for e in entries]})
        except HubUnreachable as error:
            log.warning("hub unreachable for a holder query: %s", error)
            return None
        holder = _holder(answer.get("holder"))
        if holder is not None and holder.province_code == this_node().province:
            return None  # our own province: this database has answered already
        return holder

    def holder_of_document(
        self, id_doc_type: str, id_number: str, *, exclude: Any = None
    ) -> NationalHolder | None:
        found = super().holder_of_document(id_doc_type, id_number, exclude=exclude)
        if found is not None:
            return found
        from xueji.students.identity import document_indexes

        holder = self._ask_holder(
            [("document", index) for index in document_indexes(id_doc_type, id_number)]
        )
        if holder is not None and exclude is not None and str(holder.student_id) == str(exclude):
            return None
        return holder

    def holder_of_number(self, student_number: str) -> NationalHolder | None:
        from xueji.students.identity import number_indexes

        indexes = number_indexes(student_number)
        # A record that moved to another province first: its row stays here, read-only; one
        # merged into the child's record in another province resolves to that record.
        moved = Tombstone.objects.filter(number_index__in=indexes).first()
        if moved is not None:
            return NationalHolder(
                moved.merged_into or moved.record, moved.province, "", moved.number_masked
            )
        found = super().holder_of_number(student_number)
        if found is not None:
            return found
        return self._ask_holder([("number", index) for index in indexes])

    def holder_named(self, holder: NationalHolder, name: str) -> bool:
        # The name is compared where the record is; the hub holds no names, so a record of
        # another province is "registered elsewhere" (the registrar files a transfer).
        if holder.province_code not in ("", this_node().province):
            return False
        return super().holder_named(holder, name)

    def similar_records(self, keys: MatchKeys, *, limit: int = 20) -> list[NationalHolder]:
        found = super().similar_records(keys, limit=limit)
        try:
            _status, answer = HubClient().post(
                "similar", {"keys_index": match_keys_index(keys), "limit": limit}
            )
        except HubUnreachable as error:
            log.warning("hub unreachable for the duplicate search: %s", error)
            return found
        seen = {str(holder.student_id) for holder in found}
        for data in answer.get("records", []):
            holder = _holder(data)
            if holder is not None and str(holder.student_id) not in seen:
                found.append(holder)
        return found[:limit]

    def claim_once(self, *, purpose: str, key: str, holder: str) -> bool:
        try:
            _status, answer = HubClient().post(
                "claim_once", {"purpose": purpose, "key": key, "holder": holder}
            )
        except HubUnreachable as error:
            raise HubUnavailable(
                "hub_unavailable",
                _("The national hub cannot be reached: try again in a few minutes."),
            ) from error
        return bool(answer.get("claimed"))

    def reserve(self, request: ReservationRequest) -> Reservation:
        try:
            return hub_reserve_now(request)
        except HubUnreachable as error:
            PendingReservation.objects.create(
                record=request.record, request=request.as_json(), last_error=str(error)[:200]
            )
            return Reservation(PENDING)


def pending_retry(*, limit: int = 100) -> dict[str, int]:
    """Send the pending reservations again (oldest first, each in its own transaction, rows
    taken with SKIP LOCKED so that workers share them): reserved, held elsewhere (the duplicate
    review takes it, naming the province) or still pending."""
    counts = {"reserved": 0, "held": 0, "pending": 0}
    for _round in range(limit):
        with transaction.atomic():
            pending = (
                PendingReservation.objects.select_for_update(skip_locked=True)
                .filter(state=PendingState.PENDING)
                .order_by("created_at")
                .first()
            )
            if pending is None:
                break
            request = ReservationRequest.from_json(pending.request)
            try:
                outcome = hub_reserve_now(request)
            except HubUnreachable as error:
                pending.attempts += 1
                pending.last_error = str(error)[:200]
                pending.save(update_fields=["attempts", "last_error"])
                counts["pending"] += 1
                break  # the hub is still down: the next run tries again
            pending.attempts += 1
            pending.resolved_at = timezone.now()
            if outcome.outcome == HELD:
                pending.state = PendingState.HELD
                pending.held_by_province = (
                    outcome.holder.province_code if outcome.holder is not None else ""
                )
                counts["held"] += 1
            else:
                pending.state = PendingState.RESERVED
                counts["reserved"] += 1
                if request.number_masked.startswith("G"):
                    # Registered under an L number while the hub was down: the G number is the
                    # child's now; the L number stays a former number of the same record.
                    from xueji.students.numbering import records_confirm_identity

                    records_confirm_identity(actor=None, student_ids=[request.record])
            pending.save()
    return counts
