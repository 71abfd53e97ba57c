"""Mail API: the staff test mail and the dev outbox viewer."""

from __future__ import annotations

from litestar import Controller, MediaType, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.response import Response
from litestar.status_codes import HTTP_202_ACCEPTED

from api.jobs.kinds import JobRegistry
from api.jobs.schemas import JobEnvelope, JobOut
from api.mail import outbox, services
from api.mail import permissions as perms
from api.mail.schemas import OutboxItem, OutboxMessageOut, OutboxPage, TestMailRequest
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires
from api.web.params import Pagination, provide_pagination

# The HTML of a captured mail is shown in a sandboxed iframe: no scripts, no remote loads.
MAIL_HTML_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


class MailController(Controller):
    path = "/api/mail"
    tags = ["mail"]

    @post(
        "/test",
        guards=[requires(perms.MAIL_TEST)],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def send_test(
        self,
        data: JSONBody[TestMailRequest],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        jobs: NamedDependency[JobRegistry],
    ) -> JobEnvelope:
        """Queue a test mail; follow it with GET /api/jobs/{id}."""
        with runtime.db.transaction() as session:
            job = services.queue_test_mail(session, principal, data.to)
            return JobEnvelope(job=JobOut.of(job, jobs))


class OutboxController(Controller):
    """The dev outbox: mails captured under var/outbox instead of being sent (no SMTP_URL)."""

    path = "/api/outbox"
    tags = ["mail"]
    guards = [requires(perms.OUTBOX_READ)]
    dependencies = {"pagination": Provide(provide_pagination, sync_to_thread=False)}

    @get("/", sync_to_thread=True)
    def list_messages(
        self, runtime: NamedDependency[Runtime], pagination: NamedDependency[Pagination]
    ) -> OutboxPage:
        settings = runtime.settings
        if not settings.uses_outbox:
            return OutboxPage(
                enabled=False, items=[], total=0, page=1, per_page=pagination.per_page
            )
        rows, total = outbox.list_messages(
            settings.outbox_dir, offset=pagination.offset, limit=pagination.per_page
        )
        items = [
            OutboxItem(
                id=m.id,
                at=m.at,
                sender=m.sender,
                to=m.to,
                subject=m.subject,
                size=m.size,
            )
            for m in rows
        ]
        return OutboxPage(
            enabled=True,
            items=items,
            total=total,
            page=pagination.page,
            per_page=pagination.per_page,
        )

    @get("/{message_id:str}", sync_to_thread=True)
    def get_message(
        self, message_id: FromPath[str], runtime: NamedDependency[Runtime]
    ) -> OutboxMessageOut:
        m = outbox.read_message(runtime.settings.outbox_dir, message_id)
        return OutboxMessageOut(
            id=m.id,
            at=m.at,
            sender=m.sender,
            to=m.to,
            cc=m.cc,
            subject=m.subject,
            headers=m.headers,
            text=m.text,
            has_html=m.html is not None,
        )

    @get("/{message_id:str}/html", sync_to_thread=True, media_type=MediaType.HTML)
    def get_html(
        self, message_id: FromPath[str], runtime: NamedDependency[Runtime]
    ) -> Response[str]:
        m = outbox.read_message(runtime.settings.outbox_dir, message_id)
        return Response(
            m.html or "",
            media_type=MediaType.HTML,
            headers={"Content-Security-Policy": MAIL_HTML_CSP, "X-Frame-Options": "SAMEORIGIN"},
        )

    @get("/{message_id:str}/raw", sync_to_thread=True)
    def get_raw(
        self, message_id: FromPath[str], runtime: NamedDependency[Runtime]
    ) -> Response[bytes]:
        data = outbox.raw_message(runtime.settings.outbox_dir, message_id)
        return Response(
            data,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="{message_id}.eml"'},
        )

    @delete("/", guards=[requires(perms.OUTBOX_WRITE)], sync_to_thread=True)
    def clear(
        self, principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> None:
        with runtime.db.transaction() as session:
            services.clear_outbox(session, principal, runtime.settings.outbox_dir)
