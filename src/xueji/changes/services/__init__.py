"""Writes of changes of status (学籍异动) and transfers. Each service runs in one transaction,
locks what it moves (the student on filing, the request on a decision), moves the request only
along xueji.changes.workflow, asks xueji.changes.policy who may act, logs the step and writes an
audit entry for every state change. The effect on the record (placement, state, record event)
is applied in the transaction of the final approval, by the students app.

Every service takes `on`, the day it happens (today by default): deadlines, closed periods and
effective dates are counted from it.

One module per job; callers import from here:
- filing: a transfer filed by the receiving school, any other change by the student's school;
- evidence: the documents, checked and sealed, opened by a party;
- chain: the approval chain's steps, the next party's turn, the final approval;
- effects: what a completed change does to the record;
- decisions: approve, reject, withdraw;
- tick: held requests released, overdue steps flagged (daily);
- closed_periods: the closed periods set at run time (and the held requests' new dates);
- province_rules: a new version of a province's rules;
- deferred: 留级 and 跳级 applied (or reopened) by the year end.
"""

from xueji.changes.selectors import applicant_school_id, locate_for_transfer
from xueji.changes.services.closed_periods import (
    closed_period_add,
    closed_period_defaults_adopt,
    closed_period_edit,
    closed_period_lift,
    held_requests_redate,
)
from xueji.changes.services.common import visible_q
from xueji.changes.services.decisions import change_decide, change_withdraw
from xueji.changes.services.deferred import deferred_changes_apply, deferred_changes_reopen
from xueji.changes.services.effects import CLOSING_KINDS, EVENT_OF, NEW_STATE
from xueji.changes.services.evidence import change_evidence_open
from xueji.changes.services.filing import FROM_STATES, change_file, transfer_file
from xueji.changes.services.province_rules import province_rules_save
from xueji.changes.services.tick import changes_flag_overdue, changes_release_held

__all__ = [
    "CLOSING_KINDS",
    "EVENT_OF",
    "FROM_STATES",
    "NEW_STATE",
    "applicant_school_id",
    "change_decide",
    "change_evidence_open",
    "change_file",
    "change_withdraw",
    "changes_flag_overdue",
    "changes_release_held",
    "closed_period_add",
    "closed_period_defaults_adopt",
    "closed_period_edit",
    "closed_period_lift",
    "deferred_changes_apply",
    "deferred_changes_reopen",
    "held_requests_redate",
    "locate_for_transfer",
    "province_rules_save",
    "transfer_file",
    "visible_q",
]
