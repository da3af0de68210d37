"""Reader errors: each carries a Chinese `message` for the citizen's screen and an English `detail` for the
log. Neither ever contains personal data."""

from __future__ import annotations

from kiosk.idcard import frames


class ReaderError(Exception):
    """Something stopped a card from being read."""

    default_message = "读卡失败，请重新放置证件"

    def __init__(self, detail: str = "", message: str | None = None) -> None:
        self.message = message or self.default_message
        self.detail = detail or type(self).__name__
        super().__init__(self.detail)


class ReaderUnavailable(ReaderError):
    """The serial port cannot be opened or went away (unplugged)."""

    default_message = "身份证阅读器未连接，请联系工作人员"


class ReaderTimeout(ReaderError):
    """The reader did not answer in time."""

    default_message = "身份证阅读器无响应，请联系工作人员"


class ChecksumError(ReaderError):
    """Replies kept arriving corrupted after every retry."""

    default_message = "读卡器通信异常，请重新放置证件"


class ProtocolError(ReaderError):
    """A reply that does not fit the protocol (wrong lengths, unknown status)."""

    default_message = "读卡器通信异常，请重新放置证件"


class SamError(ReaderError):
    """The SAM security module failed its self-test or is not authorised."""

    default_message = "身份证阅读器安全模块故障，请联系工作人员"


class CardRemovedError(ReaderError):
    """The card left the field between finding and reading it."""

    default_message = "读卡时证件被移开，请将证件平放在感应区，读取完成前不要移动"


class CardReadError(ReaderError):
    """The card answered but could not be authenticated or read."""

    default_message = "证件读取失败，请重新放置证件；多次失败请到人工窗口办理"


class UnsupportedCardError(CardReadError):
    """A card type this kiosk cannot read."""

    default_message = "暂不支持此类证件，请到人工窗口办理"


class InvalidIdentityError(ReaderError):
    """The card's number fails the GB 11643 check or its fields contradict each other."""

    default_message = "证件信息校验未通过，无法使用本证件自助办理，请到人工窗口办理"


def error_for_status(status: int, stage: str) -> ReaderError:
    """The error a non-success SW3 means at a stage (find, select, read, sam)."""
    detail = f"{stage}: SW3 {status:#04x}"
    if status in (frames.SW_SAM_SELF_TEST, frames.SW_SAM_NOT_AUTHORISED, frames.SW_NOT_AUTHORISED):
        return SamError(detail)
    if status in (frames.SW_READ_FAILED, frames.SW_FIND_FAILED, frames.SW_SELECT_FAILED):
        return CardRemovedError(detail)
    if status == frames.SW_UNKNOWN_CARD:
        return UnsupportedCardError(detail)
    if status in (frames.SW_AUTH_FAILED, frames.SW_AUTH_FAILED_2, frames.SW_CHECK_FAILED):
        return CardReadError(detail)
    if status == frames.SW_BAD_CHECKSUM:
        return ChecksumError(detail)
    return ProtocolError(detail)
