"""The installed domains, in one list: ``create_app`` and ``kizuna worker`` collect what each
declares (``api/<domain>/domain.py``). Adding a domain is its folder and one line here."""

from api.access.domain import DOMAIN as access
from api.audit.domain import DOMAIN as audit
from api.customers.domain import DOMAIN as customers
from api.domain import Domain
from api.exports.domain import DOMAIN as exports
from api.groups.domain import DOMAIN as groups
from api.imports.domain import DOMAIN as imports
from api.jobs.domain import DOMAIN as jobs
from api.livesettings.domain import DOMAIN as livesettings
from api.mail.domain import DOMAIN as mail
from api.members.domain import DOMAIN as members
from api.staff.domain import DOMAIN as staff

DOMAINS: tuple[Domain, ...] = (
    staff,
    audit,
    livesettings,
    jobs,
    mail,
    customers,
    imports,
    exports,
    groups,
    access,
    members,
)
