from __future__ import annotations

from marketplace.errors import Conflict


class CannotChangeSelf(Conflict):
    default_detail = "Administrators cannot ban or demote themselves (another administrator has to)."
