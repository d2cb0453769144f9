from __future__ import annotations

import pytest

from slaportal.net import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.9"),  # no proxy: the header is the client's own
        (1, "6.6.6.6, 2.2.2.2", "2.2.2.2"),  # forged entry on the left ignored
        (2, "6.6.6.6, 2.2.2.2, 10.0.0.5", "2.2.2.2"),
        (2, "2.2.2.2", "10.0.0.9"),  # fewer entries than proxies: distrust
        (1, "", "10.0.0.9"),
    ],
)
def test_client_ip_trusts_only_our_proxies(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
