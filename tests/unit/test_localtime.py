"""Local time (docs/architecture.md "Local time"): the ``when``/``time_left`` filters and the zone context."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from marketplace import i18n, localtime
from marketplace.web.filters import left_text, local, local_text, time_left, when

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
END = datetime(2026, 12, 1, 11, 5, tzinfo=UTC)


def test_when_shows_the_current_zone_with_its_offset() -> None:
    with localtime.use_zone("Asia/Shanghai"):
        html = str(when(END, now=NOW))
    assert html == '<time datetime="2026-12-01T11:05:00Z" data-local="when">12-01 19:05 (UTC+8)</time>'


@pytest.mark.parametrize(("zone", "text"), [
    ("UTC", "12-01 11:05 (UTC)"),
    ("Europe/Berlin", "12-01 12:05 (UTC+1)"),
    ("America/New_York", "12-01 06:05 (UTC-5)"),
    ("Asia/Kolkata", "12-01 16:35 (UTC+5:30)"),
    ("Asia/Tokyo", "12-01 20:05 (UTC+9)"),
])
def test_when_in_other_zones(zone: str, text: str) -> None:
    assert local_text(END, zone, now=NOW) == text


def test_summer_time_changes_the_offset() -> None:
    july = datetime(2026, 7, 1, 11, 5, tzinfo=UTC)
    assert local_text(july, "Europe/Berlin", now=NOW) == "07-01 13:05 (UTC+2)"


def test_another_year_shows_the_year_and_the_local_date_can_differ_from_utc() -> None:
    new_year = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 2027-01-01 01:00 in Shanghai
    assert local_text(new_year, "Asia/Shanghai", now=NOW) == "2027-01-01 01:00 (UTC+8)"


def test_when_accepts_api_iso_strings_and_nothing() -> None:
    with localtime.use_zone("Asia/Shanghai"):
        assert "12-01 19:05 (UTC+8)" in str(when("2026-12-01T11:05:00Z", now=NOW))
        assert local("2026-12-01T11:05:00Z").endswith("19:05 (UTC+8)")
        assert str(when(None)) == ""
        assert str(when("")) == ""
        assert str(when("garbage")) == ""


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The English texts (Chinese is the default locale once another test has loaded the real catalogs)."""
    with i18n.use_locale("en"):
        yield


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(hours=2, minutes=15, seconds=59), "2h 15m left"),
    (timedelta(days=3, hours=4, minutes=1), "3d 4h left"),
    (timedelta(minutes=15), "15m left"),
    (timedelta(seconds=59), "less than a minute left"),
    (timedelta(0), "ended"),
    (timedelta(minutes=-5), "ended"),
])
def test_time_left(delta: timedelta, text: str) -> None:
    assert left_text(NOW + delta, now=NOW) == text


def test_time_left_is_a_time_element_with_the_absolute_local_time_as_title() -> None:
    with localtime.use_zone("Asia/Shanghai"):
        html = str(time_left(END, now=NOW))
    assert html == ('<time datetime="2026-12-01T11:05:00Z" title="12-01 19:05 (UTC+8)" data-local="left">'
                    '3h 5m left</time>')


_ZH = {"%(h)dh %(m)dm left": "剩 %(h)d 小时 %(m)d 分", "ended": "已结束"}


class _Chinese:
    def gettext(self, message: str) -> str:
        return _ZH.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def test_time_left_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_catalogs", {})  # restored afterwards: the real catalogs are not touched
    i18n.register_catalog("zh_CN", _Chinese())
    with i18n.use_locale("zh_CN"):
        assert left_text(NOW + timedelta(hours=2, minutes=15), now=NOW) == "剩 2 小时 15 分"
        assert left_text(NOW, now=NOW) == "已结束"


def test_zone_context_falls_back_to_the_default_for_unknown_names() -> None:
    assert localtime.current_zone() == localtime.DEFAULT_ZONE
    with localtime.use_zone("Europe/Berlin"):
        assert localtime.current_zone() == "Europe/Berlin"
        with localtime.use_zone("Not/AZone"):
            assert localtime.current_zone() == "Asia/Shanghai"
    assert localtime.current_zone() == localtime.DEFAULT_ZONE


@pytest.mark.parametrize(("minutes", "label"), [(0, "UTC"), (480, "UTC+8"), (-300, "UTC-5"), (330, "UTC+5:30"),
                                                (-210, "UTC-3:30"), (345, "UTC+5:45")])
def test_offset_labels(minutes: int, label: str) -> None:
    assert localtime.utc_offset_label(timedelta(minutes=minutes)) == label
