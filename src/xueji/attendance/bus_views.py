"""Pages of school buses: the routes (the registrar's, or the county's), a route's stops and
children, the monitor's boarding check on a phone (morning and afternoon), and the flags shown
to the class teacher (on the roll's page) and the principal (on the morning page)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from xueji.access.decorators import requires
from xueji.access.http import first_reason, refusal_response
from xueji.access.models import Membership, ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import scope_of
from xueji.attendance.models import Boarding, BusCheck, BusFlag, BusRider, BusRoute, BusTrip
from xueji.attendance.services.bus import (
    bus_check_save,
    bus_rider_assign,
    bus_rider_end,
    bus_route_save,
    bus_stop_add,
    bus_stop_remove,
    riders_on,
    route_for,
    routes_for_check,
)
from xueji.core.errors import FieldErrors, ServiceError
from xueji.students.models import RecordState, Student
from xueji.students.views import not_found


def _day(request: HttpRequest) -> datetime.date:
    text = (request.POST.get("day") or request.GET.get("day") or "").strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return timezone.localdate()


def _errors(error: FieldErrors) -> dict[str, str]:
    return {
        ("form" if name == "__all__" else name): str(errs[0].messages[0])
        for name, errs in error.errors.items()
    }


def _routes_managed(user: Any) -> Any:
    scope = scope_of(user)
    if scope is None:
        return BusRoute.objects.none()
    if scope.level == ScopeLevel.SCHOOL:
        return BusRoute.objects.filter(school_id=scope.school_id or 0)
    return BusRoute.objects.filter(
        Q(county_id=scope.division_code) | Q(school__county_id=scope.division_code)
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.BUS_MANAGE)
def buses(request: HttpRequest) -> HttpResponse:
    """The school's (or the county's) bus routes, and a new one."""
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            route = bus_route_save(
                actor=request.user,
                name=request.POST.get("name", ""),
                vehicle=request.POST.get("vehicle", ""),
                driver=request.POST.get("driver", ""),
            )
        except FieldErrors as refused:
            errors, status = _errors(refused), 400
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            errors, status = {"form": str(first_reason(refused))}, 400
        else:
            messages.success(request, _("The route is added: now add its stops."))
            return redirect("attendance:bus_route", route.pk)
    query = (request.GET.get("q") or "").strip()
    routes = _routes_managed(request.user).select_related("school", "monitor")
    if query:
        routes = routes.filter(name__icontains=query)
    page = Paginator(routes.order_by("name", "id"), 30).get_page(request.GET.get("page"))
    scope = scope_of(request.user)
    needing = Student.objects.filter(state=RecordState.ENROLLED, needs_school_bus=True)
    needing = (
        needing.filter(school_id=scope.school_id or 0)
        if scope is not None and scope.level == ScopeLevel.SCHOOL
        else needing.filter(school__county_id=scope.division_code if scope else "")
    )
    unassigned = needing.exclude(
        pk__in=BusRider.objects.filter(end_date__isnull=True).values("student_id")
    ).count()
    return render(
        request,
        "attendance/buses.html",
        {
            "page": page,
            "q": query,
            "errors": errors,
            "posted": request.POST,
            "needing": needing.count(),
            "unassigned": unassigned,
        },
        status=status,
    )


_CONFIRMED_ACTIONS = {"remove_stop", "end_rider"}


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.BUS_MANAGE)
def bus_route(request: HttpRequest, bus_route_id: int) -> HttpResponse:
    """A route: its details and monitor, its stops in order, the children assigned, and the
    children whose record says they need the bus and have no route yet."""
    try:
        route = route_for(request.user, bus_route_id, Action.BUS_MANAGE)
    except ServiceError:
        return not_found(request)
    errors: dict[str, str] = {}
    status = 200
    action = request.POST.get("action", "")
    if request.method == "POST":
        if action in _CONFIRMED_ACTIONS and request.POST.get("confirmed") != "yes":
            return render(
                request,
                "attendance/bus_confirm.html",
                {"route": route, "action": action, "posted": request.POST},
            )
        try:
            if action == "edit":
                bus_route_save(
                    actor=request.user,
                    route_id=route.pk,
                    name=request.POST.get("name", ""),
                    vehicle=request.POST.get("vehicle", ""),
                    driver=request.POST.get("driver", ""),
                    monitor_id=request.POST.get("monitor_id") or None,
                    active=request.POST.get("active") == "on",
                )
                messages.success(request, _("The route is saved."))
            elif action == "add_stop":
                bus_stop_add(
                    actor=request.user,
                    route_id=route.pk,
                    name=request.POST.get("stop_name", ""),
                    morning_at=request.POST.get("morning_at", ""),
                    afternoon_at=request.POST.get("afternoon_at", ""),
                )
                messages.success(request, _("The stop is added."))
            elif action == "remove_stop":
                bus_stop_remove(
                    actor=request.user, route_id=route.pk, stop_id=request.POST.get("stop_id")
                )
                messages.success(request, _("The stop is removed."))
            elif action == "assign":
                bus_rider_assign(
                    actor=request.user,
                    route_id=route.pk,
                    student_id=request.POST.get("student_id", ""),
                    stop_id=request.POST.get("stop_id", ""),
                )
                messages.success(request, _("The child is assigned to the route."))
            elif action == "end_rider":
                bus_rider_end(
                    actor=request.user, route_id=route.pk, rider_id=request.POST.get("rider_id")
                )
                messages.success(request, _("The child no longer rides this route."))
            else:
                errors, status = {"action": _("Choose what to do.")}, 400
            if not errors:
                return redirect("attendance:bus_route", route.pk)
        except FieldErrors as refused:
            errors, status = _errors(refused), 400
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            errors, status = {"form": str(first_reason(refused))}, 400
    today = timezone.localdate()
    riders = Paginator(riders_on(route, today), 50).get_page(request.GET.get("page"))
    schools = (
        [route.school_id]
        if route.school_id
        else list(
            Student.objects.filter(school__county_id=route.county_id)
            .values_list("school_id", flat=True)
            .distinct()
        )
    )
    candidates = (
        Student.objects.filter(
            state=RecordState.ENROLLED, needs_school_bus=True, school_id__in=schools
        )
        .exclude(pk__in=BusRider.objects.filter(end_date__isnull=True).values("student_id"))
        .select_related("school")
        .order_by("name")[:200]
    )
    staff = Membership.objects.filter(scope_level=ScopeLevel.SCHOOL).select_related("user")
    staff = (
        staff.filter(school_id=route.school_id)
        if route.school_id
        else staff.filter(school__county_id=route.county_id)
    )
    return render(
        request,
        "attendance/bus_route.html",
        {
            "route": route,
            "stops": list(route.stops.all()),
            "riders": riders,
            "candidates": candidates,
            "staff": [m.user for m in staff.order_by("user__username")[:200]],
            "errors": errors,
            "posted": request.POST,
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.BUS_BOARD)
def board_home(request: HttpRequest) -> HttpResponse:
    """The routes the user may check today, with each trip's state."""
    day = _day(request)
    routes = routes_for_check(request.user)
    checks = {
        (c.route_id, c.trip): c
        for c in BusCheck.objects.filter(route__in=[r.pk for r in routes], day=day)
    }
    rows = [
        {
            "route": r,
            "mine": r.monitor_id == request.user.pk,
            "am": checks.get((r.pk, BusTrip.MORNING)),
            "pm": checks.get((r.pk, BusTrip.AFTERNOON)),
        }
        for r in routes
    ]
    return render(
        request,
        "attendance/board_home.html",
        {
            "day": day,
            "page": Paginator(rows, 30).get_page(request.GET.get("page")),
            "suggested": BusTrip.MORNING if timezone.localtime().hour < 12 else BusTrip.AFTERNOON,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.BUS_BOARD)
def board(request: HttpRequest, bus_route_id: int) -> HttpResponse:
    """The monitor's check of a trip on a phone: tap each child who boards; submitting says
    everyone not ticked did not board. Flags follow at once."""
    try:
        route = route_for(request.user, bus_route_id, Action.BUS_BOARD)
    except ServiceError:
        return not_found(request)
    day = _day(request)
    trip = request.POST.get("trip") or request.GET.get("trip") or BusTrip.MORNING
    if trip not in BusTrip.values:
        trip = BusTrip.MORNING
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        ticked = request.POST.getlist("boarded")
        try:
            result = bus_check_save(
                actor=request.user, route_id=route.pk, day=day, trip=trip, boarded=ticked
            )
        except FieldErrors as refused:
            errors, status = _errors(refused), 400
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            errors, status = {"form": str(first_reason(refused))}, 400
        else:
            messages.success(
                request,
                _("The check is saved: %(n)s children boarded.") % {"n": result.boarded},
            )
            if result.flags:
                messages.warning(
                    request,
                    _("%(n)s children need attention: see the flags below.") % {"n": result.flags},
                )
            return redirect(f"{reverse('attendance:board', args=[route.pk])}?day={day}&trip={trip}")
    riders = riders_on(route, day)
    boarded = set(
        Boarding.objects.filter(route=route, day=day, trip=trip).values_list(
            "student_id", flat=True
        )
    )
    if request.method == "POST":
        boarded = {
            r.student_id for r in riders if str(r.student_id) in request.POST.getlist("boarded")
        }
    check = BusCheck.objects.filter(route=route, day=day, trip=trip).first()
    flags = BusFlag.objects.filter(
        day=day, student_id__in=[r.student_id for r in riders]
    ).select_related("student", "school_class")
    return render(
        request,
        "attendance/board.html",
        {
            "route": route,
            "day": day,
            "trip": trip,
            "trips": BusTrip.choices,
            "riders": [
                {
                    "rider": r,
                    "boarded": r.student_id in boarded,
                    "error": errors.get(f"boarded-{r.student_id}", ""),
                }
                for r in riders
            ],
            "check": check,
            "flags": flags,
            "errors": errors,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
        },
        status=status,
    )


def flags_for_classes(class_ids: list[int], day: datetime.date) -> list[BusFlag]:
    """The bus flags of these classes on a day (for the class teacher's roll pages)."""
    return list(
        BusFlag.objects.filter(school_class_id__in=class_ids, day=day)
        .select_related("student", "school_class", "route")
        .order_by("school_class_id", "student__name")
    )


def flags_for_school(school_id: int, day: datetime.date) -> list[BusFlag]:
    return list(
        BusFlag.objects.filter(school_id=school_id, day=day)
        .select_related("student", "school_class", "route")
        .order_by("school_class_id", "student__name")
    )
