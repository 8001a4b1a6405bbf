from __future__ import annotations

from core.common.errors import RecastError


class InvalidEmail(RecastError):
    user_message = "That doesn't look like an email address. Please send one like name@example.com."


class EmailTaken(RecastError):
    user_message = "That email is already linked to another Recast account. Please use a different one."


class InvalidTimezone(RecastError):
    user_message = "I don't know that timezone. Try a name like Asia/Kolkata or Europe/London."


class UnsupportedLanguage(RecastError):
    user_message = (
        "I can transcribe talks in these languages for now: en (English), hi (Hindi or Hinglish). "
        "Send one of those codes."
    )


class NotRegistered(RecastError):
    user_message = "I don't know you yet. Send /start to set up your account."
