"""Catalog search: Chinese, full pinyin, initials, heteronyms, keywords and domains, ranked."""

from __future__ import annotations

import pytest

from hallcore.catalog.loader import load_catalog
from hallcore.catalog.search import CatalogSearch
from tests.conftest import DEMO_HALL


@pytest.fixture(scope="module")
def search() -> CatalogSearch:
    return CatalogSearch(load_catalog(DEMO_HALL / "catalog"))


def names(search: CatalogSearch, query: str, **kw: str) -> list[str]:
    return [h.name for h in search.search(query, **kw)]


def test_pinyin_initials_find_residence_permit_first(search: CatalogSearch) -> None:
    hits = names(search, "jzz")
    assert hits[0] == "居住证申领"
    assert set(hits[:4]) == {"居住证申领", "居住证签注", "居住证换领", "居住证补领"}


def test_full_and_mixed_pinyin(search: CatalogSearch) -> None:
    assert names(search, "juzhuzheng")[0] == "居住证申领"
    assert names(search, "JuZhu Zheng")[0] == "居住证申领"  # case and spaces ignored
    assert names(search, "huzhao")[0] == "普通护照签发"
    assert "居住证签注" in names(search, "jzzqianzhu")


def test_heteronyms_are_indexed(search: CatalogSearch) -> None:
    # 重 reads zhong (重度) and chong; a citizen typing either initial finds 重度残疾人护理补贴.
    assert "重度残疾人护理补贴申请" in names(search, "zdcjr")
    assert "重度残疾人护理补贴申请" in names(search, "cdcjr")


def test_chinese_name_ranking(search: CatalogSearch) -> None:
    hits = search.search("结婚")
    assert hits[0].name == "内地居民结婚登记"
    assert search.search("居住证申领")[0].score == 1000  # exact name beats everything


def test_everyday_words_find_the_item(search: CatalogSearch) -> None:
    assert names(search, "暂住证")[0] in {"居住证申领", "居住登记"}
    assert "租房提取住房公积金" in names(search, "公积金提取")
    assert "国有建设用地使用权及房屋所有权转移登记（存量房买卖）" in names(search, "过户")


def test_name_matches_rank_above_keyword_matches(search: CatalogSearch) -> None:
    # jh = 结婚: in the name of 内地居民结婚登记, only in a keyword (补办结婚证) of 补领婚姻登记证.
    ranked = names(search, "jh")
    assert ranked.index("内地居民结婚登记") < ranked.index("补领婚姻登记证")


def test_domain_filter_and_browse(search: CatalogSearch) -> None:
    marriage = search.search("", domain="marriage")
    assert len(marriage) == 4 and {h.domain for h in marriage} == {"marriage"}
    assert all(h.domain == "tax" for h in search.search("sq", domain="tax"))


def test_bundles_are_searchable(search: CatalogSearch) -> None:
    hits = search.search("一件事")
    assert {h.kind for h in hits} == {"bundle"} and len(hits) >= 2
    assert search.search("xsecs")[0].name == "新生儿出生一件事"


def test_no_match(search: CatalogSearch) -> None:
    assert search.search("qqqqq") == []
    assert search.search("飞机票") == []
