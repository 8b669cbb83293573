from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    name = "xueji.federation"
    label = "federation"

    def ready(self) -> None:
        from django.core import checks

        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action
        from xueji.federation import handlers  # noqa: F401  (registers the message handlers)
        from xueji.federation.checks import check_retention
        from xueji.federation.duplicates import RemoteDuplicateSource
        from xueji.federation.nodes import this_node
        from xueji.identity.sources import register_pair_source

        checks.register(check_retention)

        # Pairs across provinces in identity's duplicate review (shown on a province's node).
        register_pair_source(RemoteDuplicateSource())

        if this_node().is_province:
            # Transfers between provinces across nodes (only a province's node has them).
            menu_register(
                MenuEntry(
                    "changes",
                    _("Transfers between provinces"),
                    "federation:transfers",
                    order=15,
                    action=Action.CHANGE_VIEW,
                ),
                MenuEntry(
                    "identity",
                    _("Duplicates across provinces"),
                    "federation:duplicates",
                    order=90,
                    action=Action.DUPLICATE_VIEW,
                ),
            )

        # The menu (xueji.access.menu): the national hub's pages (国家平台与节点).
        menu_register(
            MenuEntry(
                "nodes",
                _("National look-up"),
                "federation:lookup",
                order=10,
                action=Action.FEDERATION_LOOKUP,
            ),
            MenuEntry(
                "nodes",
                _("National statistics"),
                "federation:statistics",
                order=20,
                action=Action.FEDERATION_STATS,
            ),
            MenuEntry(
                "nodes",
                _("Nodes and replication"),
                "federation:nodes",
                order=30,
                action=Action.FEDERATION_NODES,
            ),
            MenuEntry(
                "nodes",
                _("Duplicates across provinces (national)"),
                "federation:national_duplicates",
                order=40,
                action=Action.DUPLICATE_SETTLE,
            ),
        )
