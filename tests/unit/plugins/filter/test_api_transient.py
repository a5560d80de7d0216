"""The api_transient filter: which failed task results the roles' reads and applies try again."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.api_transient import FilterModule, api_transient

REFUSED = (
    "HTTPSConnectionPool(host='127.0.0.1', port=6443): Max retries exceeded with url: /version (Caused by "
    "NewConnectionError(\"HTTPSConnection(host='127.0.0.1', port=6443): Failed to establish a new connection: "
    "[Errno 111] Connection refused\")): HTTPSConnection(host='127.0.0.1', port=6443): Failed to establish a new "
    "connection: [Errno 111] Connection refused"
)


TRACEBACK = """Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/urllib3/connectionpool.py", line 787, in urlopen
    except (BaseSSLError, SSLError, CertificateError, ProxyError) as e:
{error}
"""


def _status(code: int, reason: str) -> str:
    return (
        "Failed to retrieve requested object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        f"\"status\":\"Failure\",\"message\":\"x\",\"reason\":\"{reason}\",\"code\":{code}}}\\n'"
    )


def test_filter_is_registered():
    assert FilterModule().filters()["api_transient"] is api_transient


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"failed": True, "msg": REFUSED}, True),
        ({"failed": True, "msg": "Failed to apply object: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"}, True),
        ({"failed": True, "msg": "Failed to retrieve requested object: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"}, True),
        ({"failed": True, "msg": "HTTPSConnectionPool(host='127.0.0.1', port=6443): Read timed out. (read timeout=5)"}, True),
        ({"failed": True, "msg": _status(503, "ServiceUnavailable")}, True),
        ({"failed": True, "msg": _status(500, "InternalError")}, True),
        ({"failed": True, "msg": _status(504, "Timeout")}, True),
        ({"failed": True, "msg": _status(429, "TooManyRequests")}, True),
        ({"failed": True, "msg": "Failed to patch object", "status": 503}, True),
        ({"failed": True, "msg": "Failed to apply object", "reason": "Too Many Requests"}, True),
        ({"failed": True, "msg": _status(403, "Forbidden")}, False),
        ({"failed": True, "msg": _status(404, "NotFound")}, False),
        ({"failed": True, "msg": _status(422, "Invalid")}, False),
        ({"failed": True, "msg": _status(409, "Conflict")}, False),
        ({"failed": True, "msg": _status(501, "NotImplemented")}, False),
        ({"failed": True, "msg": "Failed to apply object", "status": 403, "reason": "Forbidden"}, False),
        ({"failed": True, "msg": "Max retries exceeded with url: /version (Caused by SSLError(SSLCertVerificationError(1, "
                                 "'[SSL: CERTIFICATE_VERIFY_FAILED]')))"}, False),
        ({"failed": True, "msg": "Max retries exceeded with url: /version (Caused by NameResolutionError(\"Failed to resolve 'api.example'\"))"}, False),
        ({"failed": True, "msg": "Could not create API client: Invalid kube-config file. No configuration found."}, False),
        ({"changed": False, "resources": [], "api_found": True}, False),
        ({"skipped": True, "false_condition": "not resource_apply_plan"}, False),
        ({"failed": True, "status": True, "msg": "no status code"}, False),
        # the traceback quotes urllib3's source, which names SSLError whatever the error was
        ({"failed": True, "msg": REFUSED, "exception": "    except (BaseSSLError, SSLError, CertificateError) as e:"}, True),
        # a module that crashed, as until sees it in ansible-core 2.19: no msg, the traceback hidden or shown
        ({"failed": True, "changed": False, "exception": "(traceback unavailable)"}, True),
        ({"failed": True, "exception": TRACEBACK.format(error="urllib3.exceptions.NewConnectionError: Failed to establish a new "
                                                              "connection: [Errno 111] Connection refused")}, True),
        ({"failed": True, "exception": TRACEBACK.format(error="ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED]")},
         False),
        ({"failed": True, "exception": TRACEBACK.format(error="KeyError: 'items'")}, False),
        ({"failed": True}, False),
    ],
)
def test_transient_results(result, expected):
    assert api_transient(result) is expected


@pytest.mark.parametrize("value", [None, "Connection refused", ["a"]])
def test_anything_but_a_result_is_an_error(value):
    with pytest.raises(AnsibleFilterError, match=r"api_transient: expected a task's result \(a mapping\), got"):
        api_transient(value)
