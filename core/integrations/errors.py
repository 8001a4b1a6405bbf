"""Errors of linking Slack to Recast: workspaces, organizations, members and what they may do from Slack."""

from __future__ import annotations

from core.common.errors import NotAllowed, NotFound, RecastError


class WorkspaceNotLinked(RecastError):
    user_message = (
        "This Slack workspace isn't linked to a Recast organization yet. Run `/recast setup` to start an agency "
        "for it, or `/recast link <invite>` with an invite from an organization's owner."
    )


class InvalidRole(RecastError):
    user_message = "Roles are owner, admin, manager, creator and client."


class NotAnOrgAdmin(NotAllowed):
    user_message = "Only the organization's owners and admins can do that."


class UnknownOrganization(NotFound):
    user_message = (
        "I don't know that organization. Use its slug (e.g. `northwind`) or an invite (`inv.…`) from its owner."
    )


class SlackUserNotLinked(RecastError):
    # Only said in a workspace linked to an organization, which always has an owner to ask.
    user_message = (
        "I don't know your Slack account yet. An owner or admin of this workspace's Recast organization can add "
        "you with `/recast member @you <role>`."
    )


class NoWorkflow(RecastError):
    user_message = (
        "No approval workflow covers this channel yet, so nobody would review the drafts. A manager can set "
        "one up with `/recast workflow`."
    )


class NotAWorkspaceAdmin(NotAllowed):
    user_message = (
        "Only a Slack admin of this workspace can start an agency for it. An "
        "organization's owner can also give you an invite for `/recast link`."
    )
