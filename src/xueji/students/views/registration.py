"""新生注册: the registration form, its family rows, and the check of the ID number as soon
as its field is left."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.lookups import LookupLimitReached
from xueji.access.policy import Action
from xueji.core import codes
from xueji.core.errors import FieldErrors, NotFound, ServiceError
from xueji.schools.selectors import school_classes, school_get
from xueji.students.forms import (
    MAX_FAMILY_MEMBERS,
    FamilyMemberForm,
    StudentRegistrationForm,
    apply_field_errors,
    family_formset,
    registration_error_summary,
)
from xueji.students.services import (
    AgeNeedsConfirmation,
    RegisteredElsewhere,
    student_register,
    student_registration_check,
)
from xueji.students.validation import id_number_check
from xueji.students.views.common import registrar_school_id


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.STUDENT_REGISTER)
def register(request: HttpRequest) -> HttpResponse:
    """新生注册: the form parses, the registration's rules are checked all at once (every
    problem of the form after one submit), student_register writes."""
    school_id = registrar_school_id(request)
    classes = school_classes(request.user, school_id)
    data = request.POST if request.method == "POST" else None
    form = StudentRegistrationForm(
        data, user=request.user, classes=classes, initial={"school_class": request.GET.get("class")}
    )
    _check_id_number_on_leaving(form)
    formset = family_formset(data)
    age_warning = ""
    family_errors: list[Any] = []
    registered_elsewhere = False
    status = 200
    if data is not None:
        form_read, family_read = form.is_valid(), formset.is_valid()
        members = formset.member_forms()
        student_data = form.student_data([m.member_data() for m in members])  # type: ignore[attr-defined]
        check = student_registration_check(
            actor=request.user,
            school_class_id=form.cleaned_data.get("school_class"),
            data=student_data,
            age_confirmation=form.cleaned_data.get("age_confirmation", ""),
        )
        family_errors = apply_field_errors(form, formset, members, check.errors)
        if check.unusual_age is not None:
            age_warning = str(check.unusual_age.message)
        if form_read and family_read and check.passed:
            try:
                registration = student_register(
                    actor=request.user,
                    school_class_id=form.cleaned_data["school_class"],
                    data=student_data,
                    start_date=form.cleaned_data["start_date"],
                    age_confirmation=form.cleaned_data["age_confirmation"],
                )
            except FieldErrors as errors:
                family_errors = apply_field_errors(form, formset, members, errors.errors)
            except AgeNeedsConfirmation as warning:
                age_warning = str(warning.message)
            except NotFound as refused:
                form.add_error("school_class", str(refused.message))
            except ServiceError as refused:
                field = refused.details.get("field")
                form.add_error(field if field in form.fields else None, str(refused.message))
                # The link to file a transfer instead; a look-up over the hour's limit says so.
                registered_elsewhere = isinstance(refused, RegisteredElsewhere)
                status = 429 if isinstance(refused, LookupLimitReached) else status
            else:
                student = registration.student
                if registration.placement is None:  # 县级审核: the county issues the number
                    messages.success(
                        request,
                        _(
                            "%(name)s is registered and waits for the county's review; the "
                            "student number is issued once the county approves."
                        )
                        % {"name": student.name},
                    )
                    return redirect("identity:registration", registration_id=student.pk)
                messages.success(
                    request,
                    _("%(name)s is registered. Student number: %(number)s.")
                    % {"name": student.name, "number": student.number_masked},
                )
                return redirect("students:detail", student_id=student.pk)
    error_summary = (
        []
        if data is None
        else registration_error_summary(form, formset, family_errors, age_warning)
    )
    return render(
        request,
        "students/register.html",
        {
            "form": form,
            "formset": formset,
            "school": school_get(request.user, school_id),
            "has_classes": bool(classes),
            "age_warning": age_warning,
            "family_errors": family_errors,
            "error_summary": error_summary,
            "max_members": MAX_FAMILY_MEMBERS,
            "registered_elsewhere": registered_elsewhere,
        },
        status=status,
    )


def _check_id_number_on_leaving(form: StudentRegistrationForm) -> None:
    """The ID number is checked as soon as its field (or the document type) is left: htmx posts
    the four fields it depends on to register_id_number, which answers the field with its
    reasons and fills in the birth date and the sex the number carries."""
    for name in ("id_number", "id_doc_type"):
        form.fields[name].widget.attrs.update(
            {
                "hx-post": reverse("students:register_id_number"),
                "hx-trigger": "change",
                "hx-target": "#field-id_number",
                "hx-swap": "outerHTML",
                "hx-include": ID_CHECK_INCLUDES,
                "hx-sync": "closest form:abort",
            }
        )


ID_CHECK_INCLUDES = "#id_id_doc_type, #id_id_number, #id_birth_date, [name='sex']"


@require_POST
@login_required
@requires(Action.STUDENT_REGISTER)
def register_id_number(request: HttpRequest) -> HttpResponse:
    """htmx: the ID number field checked on its own (the registration's rules and messages),
    with the birth date and the sex it carries filled in where they are still empty. Posted, so
    that the number stays out of addresses; no other record is looked at."""
    registrar_school_id(request)
    data = request.POST.copy()
    parsed = StudentRegistrationForm(data, user=request.user, classes=[])
    parsed.is_valid()
    birth_date = parsed.cleaned_data.get("birth_date")
    sex = str(parsed.cleaned_data.get("sex") or "") or None
    doc_type = parsed.cleaned_data.get("id_doc_type") or codes.IdDocType.RESIDENT_ID.value
    check = id_number_check(doc_type, data.get("id_number", ""), birth_date=birth_date, sex=sex)
    filled = []
    if check.birth_date is not None and birth_date is None and not data.get("birth_date"):
        data["birth_date"] = check.birth_date.isoformat()
        filled.append("birth_date")
    if check.sex is not None and sex is None:
        data["sex"] = check.sex
        filled.append("sex")
    if filled:
        # Against the values the form now holds: the ones given, the ones filled in.
        check = id_number_check(
            doc_type,
            check.number,
            birth_date=birth_date or check.birth_date,
            sex=sex or check.sex,
        )
    form = StudentRegistrationForm(data, user=request.user, classes=[])
    _check_id_number_on_leaving(form)
    for name in filled:
        # Swapped in by their ids where the page has them (htmx's out-of-band swap).
        form.fields[name].widget.attrs["hx-swap-oob"] = "true"
    form.is_valid()
    for name in list(form.errors):
        del form.errors[name]
    if check.errors:
        form.errors["id_number"] = form.error_class(
            [message for error in check.errors for message in error.messages]
        )
    passed = ""
    if not check.errors and check.birth_date is not None and check.sex is not None:
        passed = _("The number reads: born %(date)s, %(sex)s.") % {
            "date": check.birth_date.isoformat(),
            "sex": codes.Sex(check.sex).label,
        }
    return render(
        request,
        "students/_id_number_check.html",
        {"form": form, "filled": filled, "passed": passed},
    )


@require_GET
@login_required
@requires(Action.STUDENT_REGISTER)
def register_member(request: HttpRequest) -> HttpResponse:
    """htmx: one more (empty) family member row for the registration form."""
    registrar_school_id(request)
    try:
        index = int(request.GET.get("family-TOTAL_FORMS", ""))
    except ValueError:
        return HttpResponse(status=400)
    if not 0 <= index < MAX_FAMILY_MEMBERS:
        return HttpResponse(status=204)
    member = FamilyMemberForm(prefix=f"family-{index}")
    return render(
        request,
        "students/_member_added.html",
        {"member": member, "number": index + 1, "total": index + 1},
    )
