"""The national pages (a bureau of national scope, the ministry's operators): the look-up of a
child's province by number, national statistics and flows between provinces from the replicated
rollups, and the state of each node's replication."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.audit.services import audit_record
from xueji.core.idnumbers import mask_id_number
from xueji.federation import selectors
from xueji.federation.nodes import this_node


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("Student number or resident ID number"), max_length=19, min_length=6
    )


@requires(Action.FEDERATION_LOOKUP)
def lookup(request: HttpRequest) -> HttpResponse:
    # POST: the number stays out of addresses, logs and the history; the form comes back empty.
    form = LookupForm(request.POST if request.method == "POST" else None)
    found = None
    searched = False
    if form.is_valid():
        searched = True
        number = form.cleaned_data["number"]
        form = LookupForm()
        found = selectors.lookup_number(number)
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action="federation.lookup",
                object_type="number",
                detail={
                    "number": mask_id_number(number),
                    "province": found.province if found else "",
                },
            )
    return render(
        request,
        "federation/lookup.html",
        {"form": form, "found": found, "searched": searched, "node": this_node()},
    )


@requires(Action.FEDERATION_STATS)
def statistics(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = selectors.national_headcounts(today)
    return render(
        request,
        "federation/statistics.html",
        {
            "rows": rows,
            "total": sum(row["count"] for row in rows),
            "on": today,
            "flows": selectors.interprovince_flows(),
        },
    )


@requires(Action.FEDERATION_NODES)
def nodes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "federation/nodes.html",
        {
            "node": this_node(),
            "states": selectors.node_states(),
            "subscriptions": selectors.subscriptions(),
            "pending": selectors.pending_counts(),
            "held": selectors.pending_held(),
        },
    )
