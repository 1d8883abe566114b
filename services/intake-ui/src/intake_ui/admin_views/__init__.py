"""FT components of the staff dashboard, a module for each part: ``frame`` (the frame of every
staff page and the pieces they share), ``listing``, ``record`` (with the tombstone),
``erasure`` (the erase form) and ``audit``.

Pure rendering: routes pass in the data, the URLs and what the staff member may do. FT
components escape every text and attribute, so hostile record content renders as text.

What the routes use is imported here, so a route reads ``admin_views.record(…)``; the smaller
pieces of a page are imported from its module.
"""

from intake_ui.admin_views.audit import audit_trail
from intake_ui.admin_views.erasure import erase_confirmation
from intake_ui.admin_views.frame import (
    MAILBOX_ROLE,
    StaffLinks,
    long_text,
    notice,
    problem,
    problem_page,
    sign_out_form,
    staff_frame,
    when,
)
from intake_ui.admin_views.listing import dashboard, results
from intake_ui.admin_views.record import RecordLinks, first_erasure, record

__all__ = [
    "MAILBOX_ROLE",
    "RecordLinks",
    "StaffLinks",
    "audit_trail",
    "dashboard",
    "erase_confirmation",
    "first_erasure",
    "long_text",
    "notice",
    "problem",
    "problem_page",
    "record",
    "results",
    "sign_out_form",
    "staff_frame",
    "when",
]
