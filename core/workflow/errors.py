from __future__ import annotations

from core.common.errors import NotAllowed, NotFound, RecastError


class ApprovalNotFound(NotFound):
    user_message = "I can't find that approval request any more. It may have been deleted."


class NotAnApprover(NotAllowed):
    user_message = "You're not an approver for this stage, so I left it as it is."


class NotYourDraft(NotAllowed):
    user_message = "Only the draft's creator can approve it here."


class AwaitingTeamApproval(NotAllowed):
    user_message = "This draft is waiting for your team's approval, so it can't be approved from here."


class InvalidWorkflow(RecastError):
    user_message = "A workflow needs at least one stage, and every stage needs a name and approvers or a role."


class NeedsFeedback(RecastError):
    user_message = "Tell the creator what to change, e.g. 'shorter' or 'mention the webinar'."


class NeedsReason(RecastError):
    user_message = "Please give a short reason for the rejection so the creator knows what went wrong."


class QANotFound(NotFound):
    user_message = "I can't find that QA request any more."


class InvalidQAScore(RecastError):
    user_message = "A QA score is a number from 0 to 100."


class NotAManager(NotAllowed):
    user_message = "Only owners, admins and managers can do that."
