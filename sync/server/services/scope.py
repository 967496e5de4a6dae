"""Who may act on what: the one place that computes and enforces a user's scope.

A user belongs to one site and acts on that site's subtree only, in every page, export,
download and API call. Outside it an object does not exist for them: the service answers
``not_found`` (404), never ``forbidden``, so a coordinator cannot learn that another
station's volunteer exists. Inside it, a role may still lack a permission (403 forbidden).

    >>> scope = scope_for(user)                       # once per request (api.auth does it)
    >>> Volunteer.select().where(scope.where(Volunteer.station))   # filter a list
    >>> scope.require_site(volunteer.station)         # one object: not_found outside
    >>> codes = scope.sites_under("PC")               # ?site=PC: its subtree, inside the scope
    >>> scope.require("manage")                       # a permission of the role

Every service function of the desk takes the Scope as its first argument and filters
with it; the HTTP layers never filter on their own (keep it so: one place to audit).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import SQL, NodeList

from sync.server.services import ServiceError

ROLES = ("center_admin", "coordinator", "team_leader")
# What each role may do inside its scope. read: see; manage: change volunteers, badges,
# hours, activities, kiosks; admin: accounts and the network itself.
PERMISSIONS = {
    "center_admin": {"read", "manage", "admin"},
    "coordinator": {"read", "manage"},
    "team_leader": {"read"},
}


def not_found(what: str = "object") -> ServiceError:
    return ServiceError("not_found", f"no such {what}")


@dataclass(frozen=True)
class Scope:
    username: str
    role: str
    site: str | None                    # the user's own site; None: the root
    sites: frozenset[str] | None        # every site code in the subtree; None: the whole network

    @property
    def is_root(self) -> bool:
        return self.sites is None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, set())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise ServiceError("forbidden", f"the role {self.role} may not do this ({permission})")

    def contains(self, site: str | None) -> bool:
        """A site code (None: an object of the whole network, e.g. a global activity,
        which only the root's users see)."""
        if self.sites is None:
            return True
        return site is not None and site in self.sites

    def require_site(self, site: str | None, what: str = "object") -> None:
        if not self.contains(site):
            raise not_found(what)

    def where(self, field):
        """A condition limiting `field` (a site code column) to this scope. Rows whose site
        is NULL (objects of the whole network) are the root's only."""
        if self.sites is None:
            return SQL("1 = 1")
        return site_in(field, self.sites)

    def sites_under(self, code: str | None) -> frozenset[str] | None:
        """The sites of `code`'s subtree (None or "": the whole scope). A site outside the
        scope, or unknown, does not exist (not_found)."""
        from sync.server.services import sites
        if not code:
            return self.sites
        if not self.contains(code):
            raise not_found("site")
        codes = sites.subtree(code)
        if not codes:
            raise not_found("site")
        return frozenset(codes)

    def whole_network(self, codes) -> bool:
        """True when `codes` (from `sites_under`) are every site of the network: the root's
        subtree, asked for by the root's own users. A query may then drop its IN list."""
        from sync.server.services import sites
        return self.sites is None and codes is not None and len(codes) >= len(sites.all_sites())

    def phone_visible(self, volunteer_site: str | None) -> bool:
        """A phone number is shown whole only to coordinators of the volunteer's own site."""
        return self.can("manage") and volunteer_site is not None and volunteer_site == self.site


def site_in(field, codes) -> NodeList:
    """``field IN (?, ?, …)`` for a set of site codes as one SQL node: peewee's
    ``field.in_(codes)`` makes a node per value, and composing the query for a city's 2,000
    sites cost more than running it."""
    from sync.server.models import db
    codes = sorted(codes)
    if not codes:
        return SQL("0 = 1")
    return NodeList((field, SQL("IN"), SQL("(" + ", ".join([db.obj.param] * len(codes)) + ")", codes)))


def scope_for(user) -> Scope:
    """The scope of a `models.User` (computed per request: the network may have changed)."""
    from sync.server.services import sites
    if user.site is None:
        return Scope(user.username, user.role, None, None)
    network = sites.all_sites()
    codes = sites.subtree(user.site, network)
    if user.site in network and network[user.site].parent is None:
        return Scope(user.username, user.role, user.site, None)       # the root site: everything
    return Scope(user.username, user.role, user.site, frozenset(codes))


CLI = Scope("cli", "center_admin", None, None)
"""What a command run on the server itself (`weiguang server …`) acts as."""
