"""Start moto's server with fixes for responses the Rust AWS SDK rejects.

S3: moto 5.2.5 names the XML root of some S3 responses `<{Operation}Response>`; botocore ignores
root names, but the Rust SDK checks them against the real service's (`VersioningConfiguration`,
`Tagging`, ...) and fails to parse. The shim renames those roots.

AWS Config: moto sends timestamps such as `configurationItemCaptureTime` as Python strings
("2026-11-29 02:45:09.970434+00:00"); AWS's JSON 1.1 protocol sends epoch seconds, which is all
the Rust client parses. The shim converts every `...Time` string of a Config reply. moto's
S3 configuration item also lacks `ServerSideEncryptionConfiguration` and
`BucketVersioningConfiguration`, which AWS Config puts in every S3 item: the shim adds them from
moto's own bucket state, in AWS's layout. Nothing else changes.
Usage: python moto_shim.py [moto_server args...]
"""

import datetime
import functools
import json
import sys

from moto.config.responses import ConfigResponse
from moto.core import serialize
from moto.s3.models import FakeBucket

S3_ROOTS = {
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketAcl": "AccessControlPolicy",
    "GetPublicAccessBlock": "PublicAccessBlockConfiguration",
    "GetBucketOwnershipControls": "OwnershipControls",
}

_original = serialize.S3Serializer._serialized_result_to_response


def _with_real_roots(self, resp, result, shape, serialized_result):
    resp = _original(self, resp, result, shape, serialized_result)
    root = S3_ROOTS.get(self.operation_model.name)
    body = resp.get("body")
    if root and isinstance(body, str):
        wrong = f"{self.operation_model.name}Response"
        resp["body"] = body.replace(f"<{wrong}", f"<{root}", 1).replace(f"</{wrong}>", f"</{root}>", 1)
    return resp


serialize.S3Serializer._serialized_result_to_response = _with_real_roots


def _epoch_times(value):
    """Every string under a key ending in `Time` that parses as a date becomes epoch seconds."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, str) and k.endswith("Time"):
                try:
                    parsed = datetime.datetime.fromisoformat(v)
                except ValueError:
                    out[k] = v
                    continue
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=datetime.timezone.utc)
                out[k] = parsed.timestamp()
            else:
                out[k] = _epoch_times(v)
        return out
    if isinstance(value, list):
        return [_epoch_times(v) for v in value]
    return value


def _json_times(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        body = method(self, *args, **kwargs)
        if not isinstance(body, str) or not body:
            return body
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        return json.dumps(_epoch_times(parsed))

    return wrapper


for _name, _method in list(vars(ConfigResponse).items()):
    if callable(_method) and not _name.startswith("_") and _name != "config_backend":
        setattr(ConfigResponse, _name, _json_times(_method))

_to_config_dict = FakeBucket.to_config_dict


def _complete_s3_item(self):
    item = _to_config_dict(self)
    supplementary = item.setdefault("supplementaryConfiguration", {})
    rule = (self.encryption or {}).get("Rule")
    if rule:
        by_default = rule.get("ApplyServerSideEncryptionByDefault", {})
        key_enabled = rule.get("BucketKeyEnabled")
        supplementary["ServerSideEncryptionConfiguration"] = {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": by_default.get("SSEAlgorithm"),
                        "kmsMasterKeyID": by_default.get("KMSMasterKeyID"),
                    },
                    # As moto's GetBucketEncryption answers: false unless set.
                    "bucketKeyEnabled": str(key_enabled).lower() == "true",
                }
            ]
        }
    supplementary["BucketVersioningConfiguration"] = {
        "status": self.versioning_status or "Off",
        "isMfaDeleteEnabled": None,
    }
    return item


FakeBucket.to_config_dict = _complete_s3_item

from moto.server import main  # noqa: E402  (after the patches on purpose)

sys.exit(main())
