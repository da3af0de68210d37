"""The simulator's test identities (sim_identities.yaml): invented people, each turned into the exact text
block and photo blob a card of theirs would carry. Numbers are NOT checked here: the file deliberately
holds a card whose check digit is wrong, so the reader's check can be seen to work."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.idcard import sim_wlt
from kiosk.idcard.card import CardType
from kiosk.idcard.codes import nation_code
from kiosk.idcard.textblock import encode_block

DEFAULT_IDENTITIES = Path(__file__).with_name("sim_identities.yaml")
KINDS = {
    "resident": CardType.RESIDENT,
    "foreigner": CardType.FOREIGNER,
    "foreigner_2023": CardType.FOREIGNER_2023,
    "hmt": CardType.HMT_RESIDENCE,
}


class SimIdentity(BaseModel):
    """One invented card holder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    card: Literal["resident", "foreigner", "foreigner_2023", "hmt"] = "resident"
    name: str = Field(default="", max_length=15, description="Chinese name (foreigners may have none)")
    english_name: str = Field(default="", max_length=60)
    sex: Literal["男", "女"]
    nation: str = Field(default="汉", description="民族 for resident cards; alpha-3 nationality for foreigners")
    birth: date
    address: str = Field(default="", max_length=35)
    id_number: str = Field(min_length=15, max_length=18)
    issuer: str = Field(default="", max_length=15)
    valid_from: date
    valid_to: date | Literal["长期"]
    photo: str = Field(default="", description="Stock photo file in kiosk/sim_assets/faces (or an absolute path)")
    appended_address: str = Field(default="", max_length=35, description="Newest endorsed address (追加住址)")
    pass_number: str = Field(default="", max_length=9, description="HK/Macao/Taiwan travel permit number")
    issue_count: str = Field(default="", max_length=2)
    authority_code: str = Field(default="", max_length=4)

    def text_block(self) -> bytes:
        """The 256-byte UCS-2 block of this card."""
        kind = KINDS[self.card]
        valid_to = self.valid_to if isinstance(self.valid_to, str) else self.valid_to.strftime("%Y%m%d")
        common = {
            "name": self.name,
            "sex": "1" if self.sex == "男" else "2",
            "birth": self.birth.strftime("%Y%m%d"),
            "id_number": self.id_number,
            "valid_from": self.valid_from.strftime("%Y%m%d"),
            "valid_to": valid_to,
        }
        if kind is CardType.RESIDENT:
            extra = {"nation": nation_code(self.nation), "address": self.address, "issuer": self.issuer}
        elif kind is CardType.HMT_RESIDENCE:
            extra = {"address": self.address, "issuer": self.issuer, "pass_number": self.pass_number}
            extra["issue_count"] = self.issue_count
        elif kind is CardType.FOREIGNER:
            extra = {"english_name": self.english_name, "nationality": self.nation, "version": "01"}
            extra["authority_code"] = self.authority_code
        else:
            english = self.english_name
            extra = {"english_name": english[:35], "english_name_more": english[35:], "nationality": self.nation}
            extra |= {"issuer": self.issuer, "issue_count": self.issue_count}
        return encode_block(kind, common | extra)

    def wlt(self, key: str) -> bytes:
        """The 1024-byte photo blob (see sim_wlt: a reference, not real WLT)."""
        return sim_wlt.encode(key, self.photo)

    def appended_address_bytes(self) -> bytes:
        """The 70-byte UCS-2 block of the endorsed address."""
        return self.appended_address.ljust(35).encode("utf-16-le")


class IdentitiesFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    identities: dict[str, SimIdentity]


class IdentitiesError(ValueError):
    """A file that cannot be read or does not validate."""


def load_identities(path: Path | None = None) -> dict[str, SimIdentity]:
    """Identities by key, validated strictly."""
    path = path or DEFAULT_IDENTITIES
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return IdentitiesFile.model_validate(raw).identities
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise IdentitiesError(f"测试身份文件 {path} 无效：{exc}") from exc
