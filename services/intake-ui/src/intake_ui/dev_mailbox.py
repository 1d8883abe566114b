"""``/admin/mailbox``: the emails the dev mailer wrote to ``<data dir>/mail``, in dev only.

Outside dev the pages do not exist (404, before any sign-in). In dev they need a staff sign-in
with ``Submissions.Read``, like the dashboard: the emails hold every client's contact details.
An email's HTML part is shown as escaped source, never rendered: it is user content, and the
page's CSP allows no frames to sandbox it in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fasthtml import common as fh
from starlette.exceptions import HTTPException
from starlette.requests import Request

from intake_ui import admin_views, layout
from intake_ui.admin_api import MissingRole
from intake_ui.mail_folder import MailFolder, MailMessage, MailSummary
from intake_ui.settings import IntakeUiSettings
from intake_ui.staff_session import StaffSession

rt = fh.APIRouter(body_wrap=admin_views.staff_frame)


def _dev_folder(req: Request, settings: IntakeUiSettings) -> MailFolder:
    if not settings.is_dev:
        raise HTTPException(status_code=404)
    staff = StaffSession.__from_request__(req)  # no staff session → the sign-in page
    if not staff.can(admin_views.MAILBOX_ROLE):
        raise MissingRole(role=admin_views.MAILBOX_ROLE)
    return MailFolder(settings.mail_dir)


def _page(title: str, content: Any, status: int = 200) -> Any:
    return fh.FtResponse((layout.title(title, layout.STAFF_SITE_NAME), content), status_code=status)


def mail_list(messages: list[MailSummary]) -> Any:
    if not messages:
        return fh.P("No emails yet. The dev mailer writes them here as they are sent.")
    rows = [
        fh.Tr(
            fh.Td(
                admin_views.long_text(
                    fh.A(message.subject, href=mail_message.to(message_id=message.message_id))
                ),
                data_label="Subject",
            ),
            fh.Td(admin_views.long_text(message.to), data_label="To"),
            fh.Td(admin_views.when(message.sent_at), data_label="Sent"),
        )
        for message in messages
    ]
    # ``records``: the dashboard's table, so on a phone each email becomes a card.
    return fh.Table(
        fh.Thead(fh.Tr(fh.Th("Subject", scope="col"), fh.Th("To", scope="col"),
                       fh.Th("Sent", scope="col"))),
        fh.Tbody(*rows),
        cls="records",
    )  # fmt: skip


def mail_view(message: MailMessage, back: str) -> Any:
    summary = message.summary
    return fh.Section(
        fh.P(fh.A("← Mailbox", href=back)),
        fh.H1(summary.subject),
        fh.Dl(
            *(
                item
                for label, value in (
                    ("From", message.sender),
                    ("To", summary.to),
                    ("Sent", admin_views.when(summary.sent_at)),
                )
                for item in (fh.Dt(label), fh.Dd(value))
            )
        ),
        fh.Article(
            fh.H2("Text part", id="text-part"),
            _scrollable(fh.Pre(message.text), "text-part") if message.text else "None",
        ),
        fh.Article(
            fh.H2("HTML part (source, not rendered)", id="html-part"),
            _scrollable(fh.Pre(fh.Code(message.html)), "html-part") if message.html else "None",
        ),
    )


def _scrollable(block: Any, heading_id: str) -> Any:
    """A ``<pre>`` scrolls sideways on long lines: focusable so a keyboard can scroll it, and a
    region named by its heading so the focus is announced (axe: scrollable-region-focusable)."""
    block.attrs.update({"tabindex": "0", "role": "region", "aria-labelledby": heading_id})
    return block


@rt("/admin/mailbox", methods=["get"])
async def mailbox(req: Request, settings: IntakeUiSettings) -> Any:
    folder = _dev_folder(req, settings)
    messages = await asyncio.to_thread(folder.newest)
    content = fh.Section(
        fh.H1("Mailbox"),
        fh.P(f"Emails the dev mailer wrote to {settings.mail_dir}, newest first.", cls="muted"),
        mail_list(messages),
    )
    return _page("Mailbox", content)


@rt("/admin/mailbox/{message_id}", methods=["get"])
async def mail_message(req: Request, message_id: str, settings: IntakeUiSettings) -> Any:
    folder = _dev_folder(req, settings)
    message = await asyncio.to_thread(folder.read, message_id)
    if message is None:
        raise HTTPException(status_code=404)
    return _page(message.summary.subject, mail_view(message, mailbox.to()))
