"""Members: the log-in of member-table records, their tokens and sessions."""

from datetime import timedelta

from api.domain import Domain, Housekeeping
from api.members import permissions, services, site
from api.members.controllers import MemberAccountController, MemberAuthController
from api.members.formpages import FormPages
from api.members.header import MemberHeader
from api.members.mypage import MyPage
from api.members.site_controllers import MemberSiteController, MemberStaffSiteController

DOMAIN = Domain(
    name="members",
    permissions=permissions.PERMISSIONS,
    controllers=(
        MemberAuthController,
        MemberAccountController,
        MemberSiteController,
        MemberStaffSiteController,
    ),
    # Without JavaScript: /mypage/ filled for the member; the forms' live settings (the
    # registration fields, the password rules); the header's log-in state on gated pages and
    # the log-in page's "logged in as" (api.members.header).
    page_fillers=(MyPage, FormPages, MemberHeader),
    housekeeping=(
        Housekeeping(
            name="ended member sessions",
            run=lambda session: services.purge_sessions(session),
            every=timedelta(hours=6),
        ),
        Housekeeping(
            name="used and expired member links",
            run=lambda session: site.purge_links(session),
            every=timedelta(hours=6),
        ),
        Housekeeping(
            name="accounts of deleted members",
            run=services.sweep_accounts,
            every=timedelta(hours=6),
        ),
    ),
    labels={
        "audit.action.members.password.set": {
            "ja": "会員パスワード設定",
            "en": "Member password set",
        },
        "audit.action.members.suspend": {"ja": "会員利用停止", "en": "Member suspended"},
        "audit.action.members.reactivate": {"ja": "会員利用再開", "en": "Member reactivated"},
        "audit.action.members.session.end": {
            "ja": "会員セッション終了",
            "en": "Member session ended",
        },
        "audit.action.members.approve": {
            "ja": "会員登録承認",
            "en": "Member registration approved",
        },
        "audit.action.members.confirmation.resend": {
            "ja": "会員登録確認メール再送",
            "en": "Member confirmation mail resent",
        },
        "audit.action.members.session.end_all": {
            "ja": "会員の全セッション終了",
            "en": "All member sessions ended",
        },
    },
)
