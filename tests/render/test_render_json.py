"""`json`: react-native-ssl-public-key-pinning's options object, what it cannot express,
escaping, byte-identical output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pingen.config.load import load_config
from pingen.errors import ConfigError, ConfigErrors, Location
from pingen.model import Domain
from pingen.render import json_output
from pingen.render.pipeline import render_output
from tests.support.models import config, domain, fake_pin, output, pin
from tests.support.rendering import Rendered, render
from tests.support.samples import TODAY

A, B, C = fake_pin("a"), fake_pin("b"), fake_pin("c")
EXPIRES = dt.date(2027, 6, 30)


def as_json(*domains: Domain) -> Rendered:
    return render(json_output, config(list(domains)), output("json", "config/pins.json"))


def sample() -> list[Domain]:
    return [
        domain(
            "zeta.example.com",
            [pin(A, "live -- </script>", key="ec-p256"), pin(B, key="rsa-2048")],
            include_subdomains=True,
            expires=EXPIRES,
        ),
        domain("alpha.example.net", [pin(C, key="ec-p384"), pin(A, key="ec-p256")], expires=None),
    ]


def test_shape_is_what_initialize_ssl_pinning_takes() -> None:
    result = as_json(*sample())
    assert json.loads(result.content) == {
        "alpha.example.net": {"includeSubdomains": False, "publicKeyHashes": [C, A]},
        "zeta.example.com": {
            "includeSubdomains": True,
            "publicKeyHashes": [A, B],
            "expirationDate": "2027-06-30",
        },
    }
    assert result.warnings == ()


def test_sorted_keys_two_space_indent_final_newline_byte_identical() -> None:
    first = as_json(*sample()).content
    value = json.loads(first)
    assert first == (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()
    assert first == as_json(*sample()).content
    assert b"\r" not in first and first.endswith(b"}\n") and not first.endswith(b"\n\n")
    # No labels: JSON has no comments.
    assert b"live" not in first


def test_no_domains_is_an_empty_object() -> None:
    assert as_json().content == b"{}\n"


def test_report_only_is_an_error_that_says_what_to_change() -> None:
    with pytest.raises(ConfigError) as caught:
        as_json(domain("api.example.com", [A, B], enforce=False, expires=EXPIRES, line=8))
    message = caught.value.message
    assert message.startswith("json output config/pins.json: api.example.com has `enforce: false`")
    assert "no report-only mode" in message and "Set `enforce: true`" in message
    assert caught.value.location == Location(Path("/project/pins.yaml"), 8, 3)


def test_fewer_than_two_distinct_pins_is_an_error_for_the_ios_side() -> None:
    with pytest.raises(ConfigError, match=r"1 distinct pin\(s\); on iOS .* at least two"):
        as_json(domain("api.example.com", [A], expires=EXPIRES))


def test_a_host_trustkit_does_not_know_is_an_error_for_the_ios_side() -> None:
    with pytest.raises(ConfigError, match=r"TrustKit refuses api\.internal .*no `\.internal`"):
        as_json(domain("api.internal", [A, B], expires=EXPIRES))


def test_include_subdomains_on_a_public_suffix_is_an_error_for_the_ios_side() -> None:
    with pytest.raises(ConfigError, match=r"on appspot\.com .* it is a public suffix"):
        as_json(domain("appspot.com", [A, B], expires=EXPIRES, include_subdomains=True))
    assert json.loads(as_json(domain("appspot.com", [A, B], expires=EXPIRES)).content)


def test_several_errors_come_together() -> None:
    with pytest.raises(ConfigErrors) as caught:
        as_json(domain("a.example.com", [A], enforce=False, expires=EXPIRES))
    assert len(caught.value.errors) == 2


def test_report_uris_are_a_warning() -> None:
    keyed = [pin(A, key="ec-p256"), pin(B, key="ec-p384")]
    result = as_json(
        domain("api.example.com", keyed, expires=EXPIRES, report_uris=("https://r.example.com/",))
    )
    assert len(result.warnings) == 1
    assert "api.example.com: `report_uris` are not used" in result.warning_text
    assert "addSslPinningErrorListener" in result.warning_text
    assert b"r.example.com" not in result.content


def test_hostile_values_round_trip() -> None:
    # Hosts are validated by the loader; the template escapes them anyway.
    host = 'a"b\\c</script>\n\u2028.example.com'
    result = as_json(domain(host, [A, B], expires=EXPIRES))
    assert list(json.loads(result.content)) == [host]
    assert b"</script>" not in result.content


def test_a_loaded_pins_yaml_renders_through_the_pipeline(tmp_path: Path) -> None:
    (tmp_path / "pins.yaml").write_text(f"""\
version: 1
defaults:
  expires: 2027-06-30
domains:
  api.example.com:
    include_subdomains: true
    pins:
      - sha256: sha256/{A}
      - sha256: {B}
outputs:
  - type: json
    path: pins.json
""")
    loaded = load_config(tmp_path / "pins.yaml", today=TODAY)
    rendered = render_output(loaded, loaded.outputs[0])
    assert json.loads(rendered.content) == {
        "api.example.com": {
            "includeSubdomains": True,
            "publicKeyHashes": [A, B],
            "expirationDate": "2027-06-30",
        }
    }
