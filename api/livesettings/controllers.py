"""Live-settings API."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.livesettings import permissions as perms
from api.livesettings import services
from api.livesettings.schemas import SettingOut, SettingsOut, SettingsUpdate
from api.principal import Principal
from api.runtime import Runtime
from api.web.auth import requires


def settings_out(values: list[services.SettingValue]) -> SettingsOut:
    return SettingsOut(
        items=[
            SettingOut(
                key=v.definition.key,
                value=v.value,
                default=v.definition.default,
                type=v.definition.type,
                choices=list(v.definition.choices) if v.definition.choices else None,
                min=v.definition.min,
                max=v.definition.max,
                updated_at=v.updated_at,
                updated_by=v.updated_by,
            )
            for v in values
        ]
    )


class LiveSettingsController(Controller):
    path = "/api/settings"
    tags = ["settings"]

    @get("/", guards=[requires(perms.SETTINGS_READ)], sync_to_thread=True)
    def list_settings(self, runtime: NamedDependency[Runtime]) -> SettingsOut:
        with runtime.db.transaction() as session:
            return settings_out(services.list_all(session))

    @patch("/", guards=[requires(perms.SETTINGS_WRITE)], sync_to_thread=True)
    def update_settings(
        self,
        data: JSONBody[SettingsUpdate],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> SettingsOut:
        with runtime.db.transaction() as session:
            return settings_out(services.update(session, principal, data.values))
