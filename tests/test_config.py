from __future__ import annotations

import pytest

from coverage.config import Config, ConfigError


def test_toml_round_trip(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text(
        'rural_threshold_min = 25\nmode = "ebike"\n[speeds_kph]\nebike = 15\n', encoding="utf-8"
    )
    cfg = Config.from_toml(p)
    assert cfg.rural_threshold_min == 25
    assert cfg.speed_kph == 15
    assert cfg.speeds_kph["walk"] == 4.5  # defaults kept for other modes


def test_unknown_keys_are_named(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text("urban_treshold_min = 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules.toml: unknown key\(s\) 'urban_treshold_min'"):
        Config.from_toml(p)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("urban_threshold_min = -1", "'urban_threshold_min' must be a positive number"),
        ('mode = "boat"', "'mode' must be one of"),
        ("[speeds_kph]\nrocket = 100", "unknown mode 'speeds_kph.rocket'"),
        ("max_snap_m = 'far'", "'max_snap_m' must be a positive number"),
        ("this is not toml", "not a valid TOML file"),
    ],
)
def test_bad_values(tmp_path, text, match):
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        Config.from_toml(p)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        Config.from_toml(tmp_path / "nope.toml")
