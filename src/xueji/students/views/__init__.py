"""Pages of the registry: home, registration, the student record, rosters and search.

Views parse the request, call a selector or a service, and render; rules live in the services.
One module per job: lists (home, roster, search), registration, record, and what they share.
"""

from xueji.students.views.common import not_found
from xueji.students.views.lists import home, roster, search
from xueji.students.views.record import formal_number, reveal_numbers, student_detail
from xueji.students.views.registration import register, register_id_number, register_member

__all__ = [
    "formal_number",
    "home",
    "not_found",
    "register",
    "register_id_number",
    "register_member",
    "reveal_numbers",
    "roster",
    "search",
    "student_detail",
]
