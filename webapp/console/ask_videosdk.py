"""The inspector's "Ask VideoSDK": what the button offers, and VideoSDK's own answer (SPEC 4, 5).

Beside this product's diagnosis, support can send the pasted token to VideoSDK's
`GET /rooms/validate/<room>` (the token's roomId, else the room the customer tried) and show
what VideoSDK itself answers. Never for a token of the sandbox key, which VideoSDK does not
know; never without a room. The call itself, and its audit line, are services.videosdk_api's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from webapp.services import videosdk_api
from webapp.tokens import Diagnosis

# The value of the inspector form's submit button that asks VideoSDK.
ASK = "videosdk"


@dataclass(frozen=True)
class AskVideoSDK:
    """What the inspector shows about VideoSDK's own answer; None fields are not shown."""

    room: str | None = None
    blocked: str | None = None  # why the button cannot be used, in words
    status: int | None = None  # VideoSDK's HTTP status, once asked
    message: str | None = None  # VideoSDK's own words, once asked
    failure: str | None = None  # why VideoSDK could not be asked or did not answer
    needs_room: bool = False  # blocked only for want of a room: the button says so

    @property
    def ready(self) -> bool:
        """Whether the button may send the token."""
        return self.room is not None and self.blocked is None


def offer(diagnosis: Diagnosis, room_tried: str | None) -> AskVideoSDK | None:
    """What the button offers for this diagnosis; None when VIDEOSDK_API_ENDPOINT is empty."""
    if videosdk_api.endpoint() is None:
        return None
    if "sandbox_key" in diagnosis.codes:
        return AskVideoSDK(blocked="This token belongs to this service's sandbox key, which "
                                   "VideoSDK does not know: VideoSDK is not asked about it.")
    claims = diagnosis.claims or {}
    bound = claims.get("roomId")
    room = bound if isinstance(bound, str) and bound else (room_tried or None)
    if room is None:
        return AskVideoSDK(needs_room=True,
                           blocked="Asking VideoSDK needs a room: the token names none, so "
                                   "type the room the customer tried above.")
    if not videosdk_api.valid_room_id(room):
        return AskVideoSDK(room=room, blocked="VideoSDK can only be asked about a room id of 1 "
                                              "to 64 letters, digits, - or _.")
    if not videosdk_api.sendable_token(diagnosis.cleaned):
        return AskVideoSDK(room=room, blocked="This paste cannot travel as a token: it holds "
                                              "characters no token has.")
    return AskVideoSDK(room=room)


def ask(offered: AskVideoSDK, diagnosis: Diagnosis) -> AskVideoSDK:
    """Send the cleaned token to VideoSDK's `GET /rooms/validate/<room>`; its answer, audited."""
    if not offered.ready or offered.room is None:
        return offered
    try:
        answer = videosdk_api.send(
            videosdk_api.validate_room(offered.room),
            diagnosis.cleaned,
            via="console",
            origin="pasted",
            fingerprint=diagnosis.fingerprint,
        )
    except videosdk_api.Unavailable as error:
        return replace(offered, failure=str(error))
    except videosdk_api.Disabled as error:
        return replace(offered, failure=str(error))
    return replace(offered, status=answer.status, message=answer.message)
