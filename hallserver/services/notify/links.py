"""What a message gets only as it is sent, never stored in the outbox: the rating invitation's one-time link
and rating code, derived from the visit (rating_proof), and a case lookup's SMS code, derived from its nonce,
when the text is rendered. The outbox keeps the visit id or the nonce alone, so a copy of the database holds
no link that could rate a visit and no code that could open someone's cases."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from hallcore import links
from hallserver.models import Visit
from hallserver.services import rating_proof
from hallserver.services.context import HallContext


def fill(
    session: Session, ctx: HallContext, template: str, params: Mapping[str, Any], base_url: str | None
) -> dict[str, Any]:
    """The parameters to render `template` with: for a rating invitation, its link and code added."""
    out = dict(params)
    if template == "rating_invite" and "visit_id" in out:
        visit = session.get(Visit, int(out["visit_id"]))
        if visit is not None:
            token = rating_proof.rating_token(ctx, visit)
            out["link"] = links.absolute(base_url, links.rating_path(token))
            out["code"] = rating_proof.rating_code(ctx, visit)
    if template == "lookup_code" and "nonce" in out:
        out["code"] = lookup_code(ctx, str(out["nonce"]))
    return out


def lookup_code(ctx: HallContext, nonce: str) -> str:
    """The 6-digit SMS code of a case lookup's nonce (keyed with the hall's identity key, domain-separated)."""
    key = hmac.new(ctx.identity_key, b"hallq-lookup-code", hashlib.sha256).digest()
    mac = hmac.new(key, nonce.encode("ascii"), hashlib.sha256).digest()
    return str(int.from_bytes(mac[:8], "big") % 1_000_000).zfill(6)
