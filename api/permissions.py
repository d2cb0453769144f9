"""DRF's side of ``agreements.rules``: a view names the rule of each action,
and this class asks ``can()``. The rules themselves live only in the rules
module, so the pages and the API cannot drift apart."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from agreements.rules import can


class RulePermission(BasePermission):
    """Checks ``view.permission_rules`` (rules without an object, checked
    before anything is read; ``None`` means any signed-in person) and
    ``view.object_rules`` (rules about the object, checked once it was found
    among what the person may see). An action named in neither is refused:
    a new action must say who may use it."""

    message = "You do not have permission to do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        action = getattr(view, "action", None)
        if action is None or action == "metadata":
            # A method the route does not serve (answered 405 next), or
            # OPTIONS, which describes the endpoint and changes nothing.
            return True
        rules: dict[str, str | None] = getattr(view, "permission_rules", {})
        if action in rules:
            return self._check(request, view, rules[action], None)
        return action in getattr(view, "object_rules", {})

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        rule = getattr(view, "object_rules", {}).get(getattr(view, "action", None))
        return rule is None or self._check(request, view, rule, obj)

    def _check(self, request: Request, view: Any, rule: str | None, obj: Any) -> bool:
        if rule is None or can(request.user, rule, obj):
            return True
        messages: dict[str, str] = getattr(view, "rule_messages", {})
        self.message = messages.get(rule, type(self).message)
        return False
