from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _revoke_after_correction(sender: Any, **kwargs: Any) -> None:
    from xueji.archive.services.certificates import certificates_revoke_after_correction

    certificates_revoke_after_correction(
        actor=kwargs.get("actor"),
        student_id=kwargs["student_id"],
        correction_id=kwargs.get("correction_id"),
    )


class ArchiveConfig(AppConfig):
    name = "xueji.archive"
    label = "archive"

    def ready(self) -> None:
        # The signing keys' private halves are sealed values, moved by `xueji rotate_keys`.
        from xueji.archive.models import SigningKey
        from xueji.archive.signing import SIGNING_KEY_CONTEXT
        from xueji.students.sealing import SealedColumn, sealed_column_register

        sealed_column_register(SealedColumn(SigningKey, "private_sealed", SIGNING_KEY_CONTEXT))

        # A key-data correction revokes the certificates whose facts it changes.
        from xueji.corrections.signals import key_data_corrected

        key_data_corrected.connect(_revoke_after_correction, dispatch_uid="archive.certificates")

        # A record that moved to another province leaves its growth record here no longer
        # (xueji.students.release; the copy went with the record).
        from xueji.archive.release import growth_record_release
        from xueji.students.release import register_release

        register_release("archive.growth_record", growth_record_release)

        # The menu (xueji.access.menu): the archive's pages (档案).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "archive",
                _("Growth records"),
                "archive:home",
                order=10,
                action=Action.ARCHIVE_VIEW,
            ),
            MenuEntry(
                "archive",
                _("Certificates"),
                "archive:certificates",
                order=20,
                action=Action.CERTIFICATE_ISSUE,
            ),
            MenuEntry(
                "archive",
                _("Fitness test"),
                "archive:fitness",
                order=30,
                action=Action.FITNESS_IMPORT,
            ),
        )
