"""An outbox unit stores its message as JSON until it is sent: buttons keep their typed actions, and a
unit stored before actions were typed (Telegram callback strings) still sends the same buttons."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from core.notify.outbox import message_from_json, message_to_json
from core.notify.ports import Button, DraftAction, DraftActionKind, OutgoingMessage


def test_a_message_with_buttons_round_trips_through_json() -> None:
    draft_id = uuid.uuid4()
    message = OutgoingMessage(
        text="📝 LinkedIn post",
        buttons=[
            [Button("✅ Approve", DraftAction(DraftActionKind.APPROVE, draft_id))],
            [Button("📋 Copy text", DraftAction(DraftActionKind.COPY, draft_id))],
        ],
        document=Path("/tmp/draft.md"),
        filename="draft.md",
    )
    assert message_from_json(json.loads(json.dumps(message_to_json(message)))) == message


def test_a_stored_old_format_payload_still_sends_its_buttons() -> None:
    draft_id = uuid.uuid4()
    stored = {
        "text": "📝 Blog article",
        "buttons": [
            [["✅ Approve", f"d:a:{draft_id.hex}"], ["✏️ Revise", f"d:r:{draft_id.hex}"]],
            [["🔄 Regenerate", f"d:g:{draft_id.hex}"], ["📋 Copy text", f"d:c:{draft_id.hex}"]],
        ],
        "video": None,
    }
    message = message_from_json(stored)
    assert [[b.action for b in row] for row in message.buttons] == [
        [DraftAction(DraftActionKind.APPROVE, draft_id), DraftAction(DraftActionKind.REVISE, draft_id)],
        [DraftAction(DraftActionKind.REGENERATE, draft_id), DraftAction(DraftActionKind.COPY, draft_id)],
    ]
    assert message.text == "📝 Blog article" and message.video is None
