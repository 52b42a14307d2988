from datetime import UTC, datetime

import pytest

from liveblog.dates import ap_date, ap_datetime, ap_time

EASTERN = "America/New_York"


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2020, 1, 7, 5, 0, tzinfo=UTC), "12:00 a.m."),  # midnight, the seed's newest entry
        (datetime(2020, 1, 7, 4, 15, tzinfo=UTC), "11:15 p.m."),
        (datetime(2020, 1, 6, 21, 55, tzinfo=UTC), "4:55 p.m."),
        (datetime(2020, 1, 6, 17, 0, tzinfo=UTC), "12:00 p.m."),  # noon
        (datetime(2020, 1, 6, 14, 5, tzinfo=UTC), "9:05 a.m."),
    ],
)
def test_ap_time_formats_in_the_given_zone(utc, expected):
    assert ap_time(utc, EASTERN) == expected


def test_ap_time_across_spring_forward():
    # 2020-03-08: clocks jump from 1:59 a.m. EST to 3:00 a.m. EDT.
    assert ap_time(datetime(2020, 3, 8, 6, 59, tzinfo=UTC), EASTERN) == "1:59 a.m."
    assert ap_time(datetime(2020, 3, 8, 7, 0, tzinfo=UTC), EASTERN) == "3:00 a.m."


def test_ap_time_across_fall_back_shows_the_repeated_hour_twice():
    # 2020-11-01: 1:30 a.m. happens once in EDT and again in EST.
    assert ap_time(datetime(2020, 11, 1, 5, 30, tzinfo=UTC), EASTERN) == "1:30 a.m."
    assert ap_time(datetime(2020, 11, 1, 6, 30, tzinfo=UTC), EASTERN) == "1:30 a.m."


def test_ap_time_uses_the_story_zone_not_the_server_zone():
    assert ap_time(datetime(2020, 1, 7, 5, 0, tzinfo=UTC), "Asia/Baghdad") == "8:00 a.m."


def test_ap_date_changes_day_at_local_midnight():
    assert ap_date(datetime(2020, 1, 7, 4, 59, tzinfo=UTC), EASTERN) == "Monday, Jan. 6, 2020"
    assert ap_date(datetime(2020, 1, 7, 5, 0, tzinfo=UTC), EASTERN) == "Tuesday, Jan. 7, 2020"


def test_ap_date_abbreviates_months_ap_style():
    assert ap_date(datetime(2020, 9, 1, 16, 0, tzinfo=UTC), EASTERN) == "Tuesday, Sept. 1, 2020"
    assert ap_date(datetime(2020, 3, 3, 16, 0, tzinfo=UTC), EASTERN) == "Tuesday, March 3, 2020"


def test_ap_datetime_joins_date_and_time_in_the_zone():
    moment = datetime(2020, 1, 7, 5, 0, tzinfo=UTC)
    assert ap_datetime(moment, EASTERN) == "Tuesday, Jan. 7, 2020, 12:00 a.m."
    assert ap_datetime(None, EASTERN) == ""
