"""Who reads everything: the one question the models ask (to narrow their
querysets) as well as the rules. It lives here, apart from rules.py, so that
the models need not import the rules, which import the models."""

from __future__ import annotations

import rules


@rules.predicate
def is_executive(user) -> bool:
    """Org-wide read access: superusers and holders of the executive permission."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_perm("agreements.view_everything")
