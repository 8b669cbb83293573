"""The hub's HTTP API for the provinces' nodes (XUEJI_NODE=national), under /hub/v1/.

Every request is signed with the node's credential (xueji.federation.signing): the hub acts for
the province the signature proves. No user session reaches it: the permission matrix grants its
action (federation.node_api) to no role, and a request without a valid signature is refused
(403); on anything but the hub these addresses do not exist (404).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from xueji.access.decorators import ACTION_ATTRIBUTE
from xueji.access.policy import Action
from xueji.federation import hub
from xueji.federation.nodes import node_secrets, this_node
from xueji.federation.signing import verified_node
from xueji.students.national import HELD, ReservationRequest

NodeView = Callable[[HttpRequest, str, dict[str, Any]], JsonResponse]


def node_endpoint(view: NodeView) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    @wraps(view)
    def guarded(request: HttpRequest) -> HttpResponse:
        if not this_node().is_hub:
            return JsonResponse({"error": "not_the_hub"}, status=404)
        if request.method != "POST":
            return JsonResponse({"error": "method_not_allowed"}, status=405)
        body = request.body
        province = verified_node(
            request.headers,
            secrets=node_secrets(),
            method="POST",
            path=request.path,
            body=body,
        )
        if province is None:
            return JsonResponse({"error": "bad_signature"}, status=403)
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("object expected")
            return view(request, province, data)
        except (ValueError, KeyError, TypeError) as error:
            return JsonResponse({"error": "bad_request", "detail": str(error)[:200]}, status=400)

    setattr(guarded, ACTION_ATTRIBUTE, Action.FEDERATION_NODE_API)
    return guarded


def _entries(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(kind), str(index)) for kind, index in data["entries"]]


@node_endpoint
def reserve(request: HttpRequest, province: str, data: dict[str, Any]) -> JsonResponse:
    asked = ReservationRequest.from_json(data)
    if asked.province and asked.province != province:
        return JsonResponse({"error": "wrong_province"}, status=403)
    outcome, holder = hub.hub_reserve(province=province, request=asked)
    status = 409 if outcome == HELD else 200
    return JsonResponse({"outcome": outcome, "holder": holder}, status=status)


@node_endpoint
def holder(request: HttpRequest, province: str, data: dict[str, Any]) -> JsonResponse:
    entry = hub.hub_holder(entries=_entries(data))
    return JsonResponse({"holder": hub.holder_json(entry) if entry is not None else None})


@node_endpoint
def similar(request: HttpRequest, province: str, data: dict[str, Any]) -> JsonResponse:
    limit = max(1, min(int(data.get("limit", 20)), 100))
    found = hub.hub_similar(keys_index=str(data["keys_index"]), limit=limit)
    return JsonResponse(
        {
            "records": [
                {
                    "record": str(key.record),
                    "province": key.province,
                    "school_name": key.school_name,
                    "number_masked": key.number_masked,
                }
                for key in found
            ]
        }
    )


@node_endpoint
def claim_once(request: HttpRequest, province: str, data: dict[str, Any]) -> JsonResponse:
    claimed = hub.hub_claim_once(
        province=province,
        purpose=str(data["purpose"]),
        key=str(data["key"]),
        holder=str(data["holder"]),
    )
    return JsonResponse({"claimed": claimed})
